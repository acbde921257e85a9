"""Running matches: the referee, runners and the sandbox."""
