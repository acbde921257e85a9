"""Engine and session factories for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker

SessionFactory = sessionmaker[Session]

# An execution option: transactions on this connection begin deferred (SQLite), see below.
_READ_OPTION = "botarena_read"
# Connection info key: True while a deferred SQLite transaction has not written yet.
_DEFERRED = "botarena_deferred"
# Statements that only read; anything else in a deferred transaction takes the write lock first.
_READ_VERBS = frozenset({"SELECT", "PRAGMA", "EXPLAIN", "VALUES"})


@dataclass(frozen=True)
class PoolLimits:
    """How many connections an engine keeps and lends, and how long a borrower may wait.

    The defaults are SQLAlchemy's; the server sizes them to its request and thread limits.
    """

    size: int = 5
    overflow: int = 10
    timeout: float = 30.0


def build_engine(url: str, pool: PoolLimits | None = None) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, foreign keys and a busy timeout.

    Statement parameters are kept out of log lines and error messages (they may hold token
    digests, password hashes or a participant's data).
    """
    limits = pool or PoolLimits()
    parsed = make_url(url)
    options: dict[str, Any] = {
        "hide_parameters": True,
        "pool_size": limits.size,
        "max_overflow": limits.overflow,
        "pool_timeout": limits.timeout,
    }
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            # Only the server reads its database (see botarena.storage).
            Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        else:
            # An in-memory database lives in one connection; no pool sizes apply.
            options = {"hide_parameters": True}
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": 30}, **options
        )
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite)
        event.listen(engine, "before_cursor_execute", _lock_before_writing)
        event.listen(engine, "commit", _forget_deferred)
        event.listen(engine, "rollback", _forget_deferred)
        return engine
    engine = create_engine(parsed, **options)
    event.listen(engine, "checkout", _replace_if_closed(engine))
    return engine


def _replace_if_closed(engine: Engine) -> Any:
    """A pool check that costs no round trip while the server keeps the connection.

    A connection the server closed (a restart, ``pg_terminate_backend``, an idle timeout) has
    something to read while it sits in the pool: the server's goodbye, or the end of the
    stream. One that is open has nothing (nothing is pending between statements). So a
    borrowed connection is pinged only when it has input, and replaced, with every connection
    pooled before it, when the ping fails. SQLAlchemy's ``pool_pre_ping`` pings every time:
    one more round trip per request, a third of a short request's time on PostgreSQL.
    """
    dialect = engine.dialect

    def check(dbapi_connection: Any, _record: object, _proxy: object) -> None:
        if not dbapi_connection.closed and not _has_input(dbapi_connection):
            return
        try:
            if dbapi_connection.closed:
                raise ConnectionError("the connection is closed")
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            closed = f"a pooled connection was closed by the server: {exc}"
            raise InvalidatePoolError(closed) from exc

    return check


def _has_input(dbapi_connection: Any) -> bool:
    # poll, not select: a busy server's descriptors go past select's 1024.
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _configure_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    # The driver's own transaction handling is switched off so that "begin" below decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    # A writer's transaction begins IMMEDIATE: it takes the write lock up front, so two
    # writers queue on the busy timeout instead of one failing with "database is locked" when
    # it upgrades a read lock (SQLite never waits for that upgrade). A reader's begins
    # deferred and takes no lock at all in WAL mode; if it writes after all, it is moved to a
    # write transaction first (below).
    connection.info[_DEFERRED] = False
    if connection.get_execution_options().get(_READ_OPTION):
        connection.exec_driver_sql("BEGIN")
        connection.info[_DEFERRED] = True
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _lock_before_writing(
    connection: Any,
    cursor: Any,
    statement: str,
    _parameters: object,
    _context: object,
    _executemany: bool,
) -> None:
    # A reader's session about to write (a token's last use, say): end its read transaction
    # and queue for the write lock, as a writer would have from the start. The write then sees
    # the newest committed rows, which is what PostgreSQL's READ COMMITTED gives every
    # statement anyway, so the services already hold under it.
    if not connection.info.get(_DEFERRED):
        return
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
    if verb in _READ_VERBS:
        return
    connection.info[_DEFERRED] = False
    cursor.execute("COMMIT")
    cursor.execute("BEGIN IMMEDIATE")


def _forget_deferred(connection: Any) -> None:
    connection.info.pop(_DEFERRED, None)


def build_session_factory(
    engine: Engine, *, read: bool = False, autocommit: bool = False
) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit (the API serialises them then).

    ``read=True``: for work that mostly reads (GET requests, live streams). On SQLite their
    transactions begin deferred, so readers never wait for the write lock nor hold it; a write
    in such a session still works (it queues for the lock at its first write). On PostgreSQL
    there is no difference.

    ``autocommit=True`` (with ``read``): for a request whose every statement stands alone (one
    read, or a write that needs no other with it). On PostgreSQL its connections run without
    a transaction, so it saves the BEGIN and ROLLBACK round trips; what each statement sees is
    what READ COMMITTED gives it anyway (a snapshot per statement). On SQLite, the same as
    ``read``.
    """
    options: dict[str, Any] = {_READ_OPTION: True} if read else {}
    if autocommit and engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    bind = engine.execution_options(**options) if options else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def session_scope(factory: SessionFactory) -> Iterator[Session]:
    """A session that is rolled back on error and always closed; the caller commits."""
    session = factory()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
