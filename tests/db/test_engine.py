"""Reading sessions: they never wait for a writer, and when they write after all they queue for
the lock like a writer instead of failing; parameters and passwords stay out of errors."""

from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import ArgumentError, StatementError

from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.db.engine import PoolLimits, build_engine, build_session_factory

# Long enough for any honest thread here; a reader that waited for the write lock would wait
# for the writer below, which holds it until the reader is done or this passes.
JOIN_SECONDS = 10.0


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


def _in_thread(work: Callable[[], object]) -> tuple[bool, object]:
    """Run ``work`` in a thread; whether it finished in time, and its result or error."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(JOIN_SECONDS)
    return (not thread.is_alive(), outcome[0] if outcome else None)


def test_a_reader_does_not_wait_for_a_writer(engine: Engine) -> None:
    writer = build_session_factory(engine)()
    AccountService(writer).users.add(_user("w-held"))
    writer.flush()  # the writer's transaction is open: on SQLite it holds the write lock
    reader = build_session_factory(engine, read=True)

    def count() -> int:
        with reader() as session:
            return session.scalar(select(func.count(User.id))) or 0

    try:
        finished, result = _in_thread(count)
    finally:
        writer.rollback()
        writer.close()
    assert finished, "the reader waited for the writer's lock"
    assert result == 0  # and saw nothing uncommitted


def test_readers_that_write_queue_instead_of_failing(engine: Engine) -> None:
    """Readers and writers at once each read, pause, then insert: a reader's upgrade from its
    read to a write must queue for the lock (on SQLite it would otherwise fail at once with
    "database is locked" whenever another writer holds it)."""
    factories = [build_session_factory(engine, read=index % 2 == 0) for index in range(8)]
    barrier = threading.Barrier(len(factories))
    errors: list[BaseException] = []

    def work(index: int) -> None:
        barrier.wait()
        try:
            with factories[index]() as session:
                accounts = AccountService(session)
                assert accounts.users.by_username(f"racer{index}") is None
                time.sleep(0.05)  # every transaction is open before any writes
                accounts.create_user(f"racer{index}", None)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(factories))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS * 3)
    assert errors == []
    with build_session_factory(engine, read=True)() as session:
        assert session.scalar(select(func.count(User.id))) == len(factories)


def test_errors_hide_statement_parameters(engine: Engine) -> None:
    secret = "bat_parameter-that-must-not-show"
    with build_session_factory(engine)() as session, pytest.raises(StatementError) as caught:
        session.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": secret})
    assert secret not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["postgresql://user:hunter2-secret@host:notaport/db", "postgresql//u:hunter2-secret@h"]
)
def test_an_unparsable_url_is_not_repeated(url: str) -> None:
    with pytest.raises((ArgumentError, ValueError)) as caught:
        build_engine(url)
    assert "hunter2-secret" not in str(caught.value)


def _user(name: str) -> User:
    from botarena.clock import utcnow
    from botarena.ids import new_id

    return User(
        id=new_id("usr"),
        username=name,
        username_key=name.lower(),
        password_hash=None,
        role="participant",
        created_at=utcnow(),
    )


def test_an_autocommit_session_leaves_its_connection_transactional_again(
    database_url: str,
) -> None:
    # One connection in the pool: the writer below gets the one the autocommit session had.
    engine = build_engine(database_url, PoolLimits(size=1, overflow=0, timeout=5))
    try:
        alone = build_session_factory(engine, read=True, autocommit=True)
        with alone() as session:
            AccountService(session).users.add(_user("alone"))
            session.rollback()
        postgres = engine.dialect.name == "postgresql"
        # PostgreSQL: no transaction, the write stood on its own; SQLite: a reader as before.
        assert _names(engine) == ({"alone"} if postgres else set())
        writer = build_session_factory(engine)
        with writer() as session:
            AccountService(session).users.add(_user("undone"))
            session.flush()
            session.rollback()
        assert _names(engine) == ({"alone"} if postgres else set())
    finally:
        engine.dispose()


def _names(engine: Engine) -> set[str]:
    with build_session_factory(engine)() as session:
        return set(session.scalars(select(User.username)))


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_pooled_connections_are_pinged_only_once_the_server_closed_them(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = build_engine(database_url, PoolLimits(size=2, overflow=0, timeout=5))
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or ping(c))
    try:
        for _ in range(5):
            with engine.connect() as connection:
                assert connection.scalar(text("SELECT 1")) == 1
        assert pings == []  # an open connection costs no round trip when it is borrowed
        with engine.connect() as connection:
            mine = connection.scalar(text("SELECT pg_backend_pid()"))
        killer = build_engine(database_url).execution_options(isolation_level="AUTOCOMMIT")
        with killer.connect() as connection:  # each count a fresh look at the server
            assert connection.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": mine})
            gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
            deadline = time.monotonic() + JOIN_SECONDS
            while connection.scalar(gone, {"p": mine}) and time.monotonic() < deadline:
                time.sleep(0.02)  # the backend closes its socket before it goes
        killer.dispose()
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT pg_backend_pid()")) != mine
        assert len(pings) == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_the_pool_check_works_past_a_thousand_descriptors(database_url: str) -> None:
    # A busy server holds many sockets: select() refuses descriptors past 1024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    engine = build_engine(database_url, PoolLimits(size=1, overflow=0, timeout=5))
    try:
        for _ in range(2):  # the second borrow runs the check on a pooled connection
            with engine.connect() as connection:
                assert connection.scalar(text("SELECT 1")) == 1
                fileno = connection.connection.dbapi_connection.fileno()
        assert fileno > 1024
    finally:
        engine.dispose()
        for descriptor in held:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
