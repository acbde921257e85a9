"""Tournaments: round robin, swiss and single elimination, played on unranked matches."""
