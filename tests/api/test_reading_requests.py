"""A request that only reads answers while another connection holds the write lock (SQLite) or
a row lock (PostgreSQL), and sees only committed rows."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from botarena.agents.models import Submission
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_url

# Long enough for any honest request here; a reader that queued for the lock would wait for a
# writer that only lets go once this has passed (and SQLite's busy timeout is 30 s).
JOIN_SECONDS = 20.0


@contextmanager
def _write_held(engine: Engine, submission_id: str) -> Iterator[Connection]:
    """A writer's open transaction that changed the submission and has not committed: on
    SQLite it holds the database's write lock (it began IMMEDIATE), on PostgreSQL the row's."""
    with engine.connect() as connection:
        connection.begin()
        connection.execute(
            update(Submission)
            .where(Submission.id == submission_id)
            .values(error_message="not committed")
        )
        try:
            yield connection
        finally:
            connection.rollback()


def _lock_is_held(settings: Settings, engine: Engine, submission_id: str) -> bool:
    """Whether a writer that does not wait would be refused right now."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        probe = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            return "locked" in str(exc)
        finally:
            probe.close()
        return False
    with engine.connect() as connection:
        try:
            connection.execute(
                text("SELECT id FROM submissions WHERE id = :id FOR UPDATE NOWAIT"),
                {"id": submission_id},
            )
        except OperationalError:
            return True
        finally:
            connection.rollback()
        return False


def _get_in_thread(client: TestClient, path: str) -> tuple[bool, object]:
    """GET ``path`` from another thread; whether it answered in time, and the answer."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(client.get(path))
        except Exception as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(JOIN_SECONDS)
    return (not thread.is_alive(), outcome[0] if outcome else None)


@pytest.mark.parametrize("path", ["/api/v1/submissions/{id}/build-status", "/api/v1/agents"])
def test_a_read_answers_while_a_writer_holds_the_lock(
    client: TestClient, settings: Settings, alice: Account, path: str
) -> None:
    submission_id = submit_url(client, alice, create_agent(client, alice, "held"))
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    with _write_held(engine, submission_id):
        assert _lock_is_held(settings, engine, submission_id)
        # Anonymous: a token's occasional lastUsedAt write would rightly queue for the lock.
        answered, answer = _get_in_thread(client, path.format(id=submission_id))
        still_held = _lock_is_held(settings, engine, submission_id)
    assert answered, "the read waited for the writer's lock"
    assert still_held  # it answered while the writer held on, not after
    assert isinstance(answer, httpx.Response) and answer.status_code == 200, answer
    if "build-status" in path:
        body = answer.json()
        assert body["status"] == "pending" and body["errorMessage"] is None
