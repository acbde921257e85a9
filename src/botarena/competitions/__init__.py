"""Competitions: a game and its configuration, dates, visibility and limits; everything
else (agents, matches, ratings, the ladder, tournaments) belongs to one."""
