"""A throwaway PostgreSQL server for the test run.

``start_postgres()`` creates a fresh cluster in a private temporary folder, starts it on a
free TCP port of 127.0.0.1 with durability switched off (fast, and nothing of value is
stored), and returns a :class:`PostgresServer`.  ``PostgresServer.stop()`` shuts the server
down and removes the folder.

PostgreSQL refuses to run as root, so when the tests run as root the cluster is created and
run as the ``postgres`` system account.

Environment variables:

``BOTARENA_TEST_DATABASE_URL``
    Use this existing server instead of starting one.  ``stop()`` then does nothing, and
    databases are created and dropped on that server.
``BOTARENA_TEST_PG_BIN``
    Folder holding ``initdb`` and ``pg_ctl``; by default the highest version found under
    ``/usr/lib/postgresql/<version>/bin`` is used.

Nothing happens at import time: the server only exists between ``start_postgres()`` and
``stop()``.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL, make_url

__all__ = [
    "DATABASE_URL_ENV",
    "PG_BIN_ENV",
    "PostgresServer",
    "PostgresUnavailable",
    "find_pg_bin",
    "start_postgres",
]

DATABASE_URL_ENV = "BOTARENA_TEST_DATABASE_URL"
PG_BIN_ENV = "BOTARENA_TEST_PG_BIN"

_DRIVER = "postgresql+psycopg"
_SERVER_ACCOUNT = "postgres"
_HOST = "127.0.0.1"
_SUPERUSER = "postgres"
_PG_ROOT = Path("/usr/lib/postgresql")
_LOG_NAME = "server.log"
_LOG_TAIL_LINES = 40
_START_ATTEMPTS = 3
_START_WAIT_SECONDS = 60
_STOP_WAIT_SECONDS = 30
_CONNECT_TIMEOUT_SECONDS = 10
# A Unix socket path may hold at most 107 bytes; keep the temp root well below that.
_MAX_TEMP_ROOT_LENGTH = 60
# Settings for a disposable server: no durability, no noise.
_SERVER_SETTINGS: Mapping[str, str] = {
    "listen_addresses": _HOST,
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class PostgresUnavailable(RuntimeError):  # noqa: N818 - the name is the agreed API
    """No PostgreSQL server could be provided for the tests; the message says why."""


@dataclass(frozen=True)
class _Account:
    """The operating-system account that runs the PostgreSQL programs."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str


@dataclass
class PostgresServer:
    """A PostgreSQL server reachable over TCP.

    ``data_dir`` is the cluster folder of a server started by :func:`start_postgres`, or
    ``None`` for an existing server given by ``BOTARENA_TEST_DATABASE_URL``.
    """

    host: str
    port: int
    user: str
    data_dir: Path | None
    password: str | None = field(default=None, repr=False)
    admin_database: str = "postgres"
    query: Mapping[str, str] = field(default_factory=dict)
    pg_bin: Path | None = None
    _account: _Account | None = field(default=None, repr=False)

    @property
    def managed(self) -> bool:
        """True when this object started the server (and ``stop()`` shuts it down)."""
        return self.data_dir is not None

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for ``database`` on this server."""
        return (
            URL.create(
                _DRIVER,
                username=self.user,
                password=self.password,
                host=self.host or None,
                port=self.port,
                database=database,
                query=dict(self.query),
            )
            # Without this the password would be rendered as "***".
            .render_as_string(hide_password=False)
        )

    def conninfo(self, database: str = "postgres") -> str:
        """libpq connection string for ``database`` on this server (for plain psycopg)."""
        params: dict[str, str] = {
            "port": str(self.port),
            "user": self.user,
            "dbname": database,
            "connect_timeout": str(_CONNECT_TIMEOUT_SECONDS),
        }
        if self.host:
            params["host"] = self.host
        if self.password is not None:
            params["password"] = self.password
        params.update(self.query)
        return make_conninfo("", **params)

    def create_database(self, name: str) -> str:
        """Create the database ``name`` and return its SQLAlchemy URL."""
        self._admin_execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop the database ``name``, ending any sessions still connected to it."""
        self._admin_execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def stop(self) -> None:
        """Shut the server down at once and remove its folder.

        Does nothing for an existing server (``BOTARENA_TEST_DATABASE_URL``); calling it
        twice is harmless.
        """
        if self.data_dir is None or self.pg_bin is None:
            return
        _shut_down(self.pg_bin, self.data_dir, self._account)
        _remove_folder(self.data_dir)

    def _admin_execute(self, statement: sql.Composed) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction block.
        with psycopg.connect(self.conninfo(self.admin_database), autocommit=True) as conn:
            conn.execute(statement)


def find_pg_bin() -> Path | None:
    """Folder holding the PostgreSQL server programs, or ``None`` when there is none.

    ``BOTARENA_TEST_PG_BIN`` wins when set (``None`` if it lacks ``initdb``/``pg_ctl``);
    otherwise the highest version under ``/usr/lib/postgresql/<version>/bin`` is taken,
    and as a last resort the folder of an ``initdb`` found on ``PATH``.
    """
    override = os.environ.get(PG_BIN_ENV, "").strip()
    if override:
        folder = Path(override)
        return folder if _has_server_programs(folder) else None

    versions: list[tuple[tuple[int, ...], Path]] = []
    if _PG_ROOT.is_dir():
        for entry in _PG_ROOT.iterdir():
            key = _version_key(entry.name)
            if key is not None and _has_server_programs(entry / "bin"):
                versions.append((key, entry / "bin"))
    if versions:
        return max(versions)[1]

    on_path = shutil.which("initdb")
    if on_path is not None:
        folder = Path(on_path).resolve().parent
        if _has_server_programs(folder):
            return folder
    return None


def start_postgres() -> PostgresServer:
    """Provide a PostgreSQL server for the tests.

    With ``BOTARENA_TEST_DATABASE_URL`` set, that server is checked and used.  Otherwise
    a fresh cluster is created and started; the caller must call ``stop()``.

    Raises :class:`PostgresUnavailable` with the reason when no server can be provided.
    No folder or process is left behind when it fails.
    """
    external = os.environ.get(DATABASE_URL_ENV, "").strip()
    if external:
        return _use_existing_server(external)

    pg_bin = find_pg_bin()
    if pg_bin is None:
        raise PostgresUnavailable(_missing_binaries_message())
    account = _server_account()
    data_dir = _make_data_dir(account)
    try:
        _init_cluster(pg_bin, data_dir, account)
        port = _start_server(pg_bin, data_dir, account)
    except BaseException:
        # Also on KeyboardInterrupt: never leave a running server or its folder behind.
        _shut_down(pg_bin, data_dir, account)
        _remove_folder(data_dir)
        raise
    return PostgresServer(
        host=_HOST,
        port=port,
        user=_SUPERUSER,
        data_dir=data_dir,
        pg_bin=pg_bin,
        _account=account,
    )


# --- an existing server ------------------------------------------------------------------


def _use_existing_server(raw_url: str) -> PostgresServer:
    try:
        url = make_url(raw_url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError; be generous.
        raise PostgresUnavailable(f"{DATABASE_URL_ENV} is not a valid URL: {exc}") from exc
    if url.get_backend_name() != "postgresql":
        raise PostgresUnavailable(
            f"{DATABASE_URL_ENV} must point at a PostgreSQL server, got {url.drivername!r}"
        )
    server = PostgresServer(
        host=url.host or "",
        port=url.port or 5432,
        user=url.username or getpass.getuser(),
        data_dir=None,
        password=url.password,
        admin_database=url.database or "postgres",
        query=_flatten_query(url.query),
    )
    try:
        with psycopg.connect(server.conninfo(server.admin_database)) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        shown = url.render_as_string(hide_password=True)
        raise PostgresUnavailable(
            f"cannot connect to the server given by {DATABASE_URL_ENV} ({shown}): {exc}"
        ) from exc
    return server


def _flatten_query(query: Mapping[str, str | Sequence[str]]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in query.items():
        if isinstance(value, str):
            flat[key] = value
        elif value:
            flat[key] = value[-1]
    return flat


# --- finding the programs and the account ------------------------------------------------


def _has_server_programs(folder: Path) -> bool:
    return all(
        (folder / name).is_file() and os.access(folder / name, os.X_OK)
        for name in ("initdb", "pg_ctl")
    )


def _version_key(name: str) -> tuple[int, ...] | None:
    parts = name.split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def _missing_binaries_message() -> str:
    override = os.environ.get(PG_BIN_ENV, "").strip()
    if override:
        return f"{PG_BIN_ENV}={override} does not contain executable initdb and pg_ctl programs"
    return (
        f"PostgreSQL server programs (initdb, pg_ctl) not found under "
        f"{_PG_ROOT}/<version>/bin or on PATH; install them (Debian: "
        f"apt-get install postgresql), point {PG_BIN_ENV} at their folder, or set "
        f"{DATABASE_URL_ENV} to an existing server"
    )


def _server_account() -> _Account | None:
    """The account to run PostgreSQL as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(_SERVER_ACCOUNT)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, but there is no {_SERVER_ACCOUNT!r} system user to run "
            f"PostgreSQL as (it refuses to run as root); create it (Debian: install the "
            f"postgresql package) or set {DATABASE_URL_ENV}"
        ) from None
    groups = tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
    return _Account(entry.pw_name, entry.pw_uid, entry.pw_gid, groups, entry.pw_dir)


# --- the cluster folder ------------------------------------------------------------------


def _make_data_dir(account: _Account | None) -> Path:
    """An empty folder, mode 0700, owned by the server account, that it can reach."""
    root = _pick_temp_root(account)
    data_dir = Path(tempfile.mkdtemp(prefix="botarena-pg-", dir=root))
    try:
        data_dir.chmod(0o700)
        if account is not None:
            os.chown(data_dir, account.uid, account.gid)
    except BaseException:
        _remove_folder(data_dir)
        raise
    return data_dir


def _pick_temp_root(account: _Account | None) -> Path:
    candidates: list[Path] = []
    for raw in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
        path = Path(raw)
        if path not in candidates:
            candidates.append(path)
    for path in candidates:
        if (
            path.is_dir()
            and len(str(path)) <= _MAX_TEMP_ROOT_LENGTH
            and os.access(path, os.W_OK | os.X_OK)
            and _reachable_by(path, account)
        ):
            return path
    who = account.name if account is not None else "the current user"
    tried = ", ".join(str(path) for path in candidates)
    raise PostgresUnavailable(
        f"no temporary folder usable for the PostgreSQL cluster (short path, writable, "
        f"reachable by {who}); tried {tried}"
    )


def _reachable_by(path: Path, account: _Account | None) -> bool:
    """Whether ``account`` may enter ``path`` and every folder above it."""
    if account is None:
        return True
    resolved = path.resolve()
    for folder in (resolved, *resolved.parents):
        try:
            info = folder.stat()
        except OSError:
            return False
        if info.st_uid == account.uid:
            allowed = bool(info.st_mode & stat.S_IXUSR)
        elif info.st_gid in account.groups:
            allowed = bool(info.st_mode & stat.S_IXGRP)
        else:
            allowed = bool(info.st_mode & stat.S_IXOTH)
        if not allowed:
            return False
    return True


def _remove_folder(folder: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(folder)


# --- running the programs ----------------------------------------------------------------


def _run(
    args: Sequence[str | Path],
    account: _Account | None,
    *,
    timeout: float,
    output: IO[bytes],
) -> int:
    """Run a program (as ``account``) with its output going to ``output``; no pipes.

    Returns the exit status; raises PostgresUnavailable when it cannot run or hangs.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"  # English messages, whatever the machine's locale.
    if account is not None:
        env.update(HOME=account.home, USER=account.name, LOGNAME=account.name)
    command = [str(arg) for arg in args]
    try:
        completed = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd="/",
            env=env,
            timeout=timeout,
            check=False,
            user=None if account is None else account.uid,
            group=None if account is None else account.gid,
            extra_groups=None if account is None else list(account.groups),
        )
    except subprocess.TimeoutExpired as exc:
        raise PostgresUnavailable(
            f"{shlex.join(command)} did not finish within {timeout:.0f}s"
        ) from exc
    except OSError as exc:
        raise PostgresUnavailable(f"cannot run {shlex.join(command)}: {exc}") from exc
    return completed.returncode


def _read_output(output: IO[bytes]) -> str:
    output.seek(0)
    return output.read().decode("utf-8", errors="replace").strip()


def _init_cluster(pg_bin: Path, data_dir: Path, account: _Account | None) -> None:
    base: list[str | Path] = [
        pg_bin / "initdb",
        "--pgdata",
        data_dir,
        "--username",
        _SUPERUSER,
        "--auth=trust",
        "--encoding=UTF8",
        "--no-sync",
    ]
    failures: list[str] = []
    # C.UTF-8 keeps Unicode-aware lower()/upper(); fall back to plain C where it is missing.
    for locale_option in ("--locale=C.UTF-8", "--no-locale"):
        with tempfile.TemporaryFile() as output:
            status = _run([*base, locale_option], account, timeout=120, output=output)
            if status == 0:
                return
            failures.append(f"initdb {locale_option} exited with {status}:\n{_read_output(output)}")
        _empty_folder(data_dir)
    raise PostgresUnavailable("could not create the PostgreSQL cluster\n" + "\n".join(failures))


def _empty_folder(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _start_server(pg_bin: Path, data_dir: Path, account: _Account | None) -> int:
    """Start the server on a free port and return the port (retried if the port is taken)."""
    log_file = data_dir / _LOG_NAME
    failures: list[str] = []
    for _attempt in range(_START_ATTEMPTS):
        port = _free_port()
        options = [f"-p {port}", f"-k {shlex.quote(str(data_dir))}"]
        options += [f"-c {name}={value}" for name, value in _SERVER_SETTINGS.items()]
        args: list[str | Path] = [
            pg_bin / "pg_ctl",
            "start",
            "--pgdata",
            data_dir,
            "--log",
            log_file,
            "--options",
            " ".join(options),
            "--wait",
            "--timeout",
            str(_START_WAIT_SECONDS),
            "--silent",
        ]
        with tempfile.TemporaryFile() as output:
            status = _run(args, account, timeout=_START_WAIT_SECONDS + 30, output=output)
            if status == 0:
                return port
            failures.append(
                f"pg_ctl start (port {port}) exited with {status}: {_read_output(output)}"
            )
        # pg_ctl may give up while the server is still starting: make sure it is gone.
        _shut_down(pg_bin, data_dir, account)
        if not _port_was_taken(log_file):
            break
    raise PostgresUnavailable(
        "the PostgreSQL server did not start\n"
        + "\n".join(failures)
        + f"\n--- last {_LOG_TAIL_LINES} lines of the server log ---\n"
        + _tail(log_file)
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_was_taken(log_file: Path) -> bool:
    text = _tail(log_file)
    return "could not bind" in text or "already in use" in text


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        content = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(content.splitlines()[-lines:]) or "(log is empty)"


def _shut_down(pg_bin: Path, data_dir: Path, account: _Account | None) -> None:
    """Stop the server in ``data_dir`` if it runs, by force if pg_ctl cannot."""
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    args: list[str | Path] = [
        pg_bin / "pg_ctl",
        "stop",
        "--pgdata",
        data_dir,
        "--mode",
        "immediate",
        "--wait",
        "--timeout",
        str(_STOP_WAIT_SECONDS),
        "--silent",
    ]
    with tempfile.TemporaryFile() as output:
        try:
            status = _run(args, account, timeout=_STOP_WAIT_SECONDS + 30, output=output)
        except PostgresUnavailable:
            status = -1
    if status == 0 or not pid_file.exists():
        return
    _kill_postmaster(data_dir, pid_file)


def _kill_postmaster(data_dir: Path, pid_file: Path) -> None:
    """Last resort: SIGKILL the postmaster named in ``pid_file``.

    Only when that process really is the server of ``data_dir`` (its working folder), so a
    stale pid file can never make us kill an unrelated process.
    """
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except (OSError, ValueError, IndexError):
        return
    if pid <= 1 or Path(cwd) != data_dir.resolve():
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
