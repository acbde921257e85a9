"""Games: the registry of known games (their rules arrive with the match engine)."""
