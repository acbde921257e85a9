"""Migrations: upgrade from empty, downgrade to empty, upgrade again, on both backends; and
the migrated schema matches the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from botarena.db import migrate
from botarena.db.engine import build_engine
from botarena.models import metadata

from support.postgres import PostgresServer

TABLES = {
    "users",
    "api_tokens",
    "agents",
    "submissions",
    "submission_status_events",
    "build_attempts",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database("migration_round_trip")


def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    engine = build_engine(empty_database_url)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES
        _assert_schema_matches_models(engine)

        migrate.downgrade(engine)
        assert migrate.current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())

        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        _assert_schema_matches_models(engine)
    finally:
        engine.dispose()


def _assert_schema_matches_models(engine: object) -> None:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, metadata)
    assert differences == []
