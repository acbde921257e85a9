"""Apply, roll back and inspect Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine, metadata: MetaData | None = None) -> Config:
    """An Alembic configuration that runs on ``engine``'s connections; with the models'
    ``metadata`` (``botarena.models.metadata``) for commands that compare the schema with
    the models, such as ``command.revision(config, autogenerate=True)``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    if metadata is not None:
        config.attributes["metadata"] = metadata
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema down to ``revision`` (default: empty)."""
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest revision shipped with this version of botarena (read from the scripts once
    per process: they do not change under it, and ``/readyz`` asks at every probe)."""
    return ScriptDirectory.from_config(alembic_config_without_engine()).get_current_head()


def alembic_config_without_engine() -> Config:
    """A configuration for reading the scripts only."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
