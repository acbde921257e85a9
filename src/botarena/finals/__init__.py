"""A competition's end: final selections' API, the final evaluation, the frozen standings
and every competition's leaderboard (it reads the tournaments and the ratings)."""
