"""Leased jobs kept in the database: one queue for builds, matches and whatever comes next."""
