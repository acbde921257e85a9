"""Alembic environment: runs migrations on the engine handed over by botarena.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from botarena.models import metadata

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through botarena.db.migrate (botarena migrate)")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
