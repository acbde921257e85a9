"""Self-check of tests/support/postgres.py: the throwaway PostgreSQL server really works."""

from __future__ import annotations

import os
import socket
import stat
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

from support import postgres
from support.postgres import (
    PostgresServer,
    PostgresUnavailable,
    find_pg_bin,
    start_postgres,
)


def _start_or_skip() -> PostgresServer:
    try:
        return start_postgres()
    except PostgresUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true but unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")


def _database_names(server: PostgresServer) -> set[str]:
    with psycopg.connect(server.conninfo(server.admin_database)) as conn:
        rows = conn.execute("SELECT datname FROM pg_database").fetchall()
    return {row[0] for row in rows}


def test_start_create_query_drop_stop() -> None:
    server = _start_or_skip()
    name = f"botarena_selfcheck_{uuid.uuid4().hex[:12]}"
    try:
        if server.managed:
            assert server.host == "127.0.0.1"
            assert server.user == "postgres"
            assert server.url() == f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres"

        url = server.create_database(name)
        assert url == server.url(name)
        assert name in _database_names(server)

        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("select 1")).scalar_one() == 1
                assert conn.execute(text("select current_database()")).scalar_one() == name
                assert conn.execute(text("show server_encoding")).scalar_one() == "UTF8"
        finally:
            engine.dispose()

        # WITH (FORCE): a session still connected to the database does not block the drop.
        with psycopg.connect(server.conninfo(name)) as lingering:
            server.drop_database(name)
            with pytest.raises(psycopg.OperationalError):
                lingering.execute("select 1")
        assert name not in _database_names(server)
        server.drop_database(name)  # dropping a missing database is fine
    finally:
        server.drop_database(name)
        server.stop()

    if server.data_dir is not None:
        assert not server.data_dir.exists()
    server.stop()  # a second stop does nothing


def test_find_pg_bin_honours_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(postgres.PG_BIN_ENV, str(tmp_path))
    assert find_pg_bin() is None  # folder without the programs

    for program in ("initdb", "pg_ctl"):
        (tmp_path / program).write_text("#!/bin/sh\nexit 1\n")
        (tmp_path / program).chmod(stat.S_IRWXU)
    assert find_pg_bin() == tmp_path


def test_failed_start_reports_log_and_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port that stays taken makes every start fail: the error shows the server log."""
    monkeypatch.delenv(postgres.DATABASE_URL_ENV, raising=False)
    if postgres.find_pg_bin() is None:
        pytest.skip("PostgreSQL server programs not installed")

    created: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args: str, **kwargs: str) -> str:
        folder = real_mkdtemp(*args, **kwargs)
        created.append(Path(folder))
        return folder

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        busy_port: int = blocker.getsockname()[1]
        monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
        monkeypatch.setattr(postgres, "_free_port", lambda: busy_port)

        with pytest.raises(PostgresUnavailable, match="did not start") as excinfo:
            postgres.start_postgres()

    assert "could not" in str(excinfo.value)  # e.g. "could not bind IPv4 address"
    assert created
    assert not any(folder.exists() for folder in created)


def test_missing_binaries_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(postgres.DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(postgres.PG_BIN_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(PostgresUnavailable, match=postgres.PG_BIN_ENV):
        start_postgres()


def test_bad_external_url_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(postgres.DATABASE_URL_ENV, "mysql://someone@localhost/db")
    with pytest.raises(PostgresUnavailable, match="PostgreSQL"):
        start_postgres()
