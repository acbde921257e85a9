"""Alembic environment: runs migrations on the engine handed over by botarena.db.migrate.

The models' metadata comes the same way (``config.attributes``), when the caller has it: the
database layer imports nothing of the packages above it. Applying migrations needs none;
comparing the schema with the models (``--autogenerate``) does.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, MetaData

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through botarena.db.migrate (botarena migrate)")
metadata = context.config.attributes.get("metadata")
if metadata is not None and not isinstance(metadata, MetaData):
    raise RuntimeError("the metadata handed to the migrations is not a MetaData")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
