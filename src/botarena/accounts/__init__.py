"""Accounts: users, roles, password hashing and API tokens."""
