"""Persistence: the declarative base, engine and session factories, and Alembic migrations."""
