"""Ratings: OpenSkill (Plackett-Luce) per submission, the leaderboard and head-to-head records."""
