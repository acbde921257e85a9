"""No secret in logs or answers: a real server on a PostgreSQL URL with a password, driven with
tokens in headers, in query strings (WebSocket and event stream), in paths and in failed
sign-ins, at the most talkative log level; then its whole log and every answer are searched
for each secret."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.db.engine import build_engine, build_session_factory
from botarena.settings import Settings

from support.live import LiveServer, cli_env, free_port, run_cli
from support.postgres import PostgresServer


@pytest.fixture
def secret_database(postgres_server: PostgresServer) -> Iterator[str]:
    """A database owned by a role with a password, and its URL carrying that password.

    The run's server trusts loopback connections, so the password is not what lets the
    server in; it is carried wherever the URL goes, which is what is searched for."""
    role = f"secretive_{secrets.token_hex(4)}"
    password = f"pg-{secrets.token_urlsafe(18)}"
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(role), sql.Identifier(role)
            )
        )
    url = make_url(postgres_server.url(role)).set(username=role, password=password)
    yield url.render_as_string(hide_password=False)
    postgres_server.drop_database(role)
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_no_secret_reaches_the_log_or_an_answer(tmp_path: Path, secret_database: str) -> None:
    db_password = make_url(secret_database).password
    assert db_password
    user_password = f"pw-{secrets.token_urlsafe(12)}"
    wrong_password = f"wrong-{secrets.token_urlsafe(12)}"
    bogus_token = f"bat_{secrets.token_urlsafe(32)}"
    env = cli_env(tmp_path, secret_database)
    env["BOTARENA_LOG_LEVEL"] = "DEBUG"
    made = run_cli(env, "user", "create", "keeper", "--password-stdin", stdin=user_password + "\n")
    assert made.returncode == 0, made.stderr
    first_token = made.stdout.strip().splitlines()[-1]
    assert db_password not in made.stdout + made.stderr

    server = LiveServer(env)
    server.start()
    answers: list[httpx.Response] = []
    try:
        issued, sub = _drive(server.url, first_token, user_password, wrong_password, answers)
        _finish(secret_database, sub)
        _websockets(server.url, sub, [issued, first_token, bogus_token])
        answers.append(
            httpx.get(f"{server.url}/api/v1/submissions/{sub}/events?access_token={issued}")
        )
    finally:
        server.stop()

    log = server.output
    assert "WebSocket" in log, "the WebSocket calls were logged (with their secrets redacted)"
    assert "access_token=[redacted]" in log
    assert "[redacted]@" in log or "***@" in log, "the banner names the database, masked"
    found = {
        name: value
        for name, value in {
            "database password": db_password,
            "user password": user_password,
            "wrong password": wrong_password,
            "token from the command line": first_token,
            "token from signing in": issued,
            "unknown token": bogus_token,
        }.items()
        if value in log
    }
    assert found == {}, f"secrets in the server's log: {sorted(found)}"
    for answer in answers:
        for value in (db_password, user_password, wrong_password, first_token, issued, bogus_token):
            assert value not in answer.text, f"{answer.request.url.path} answered a secret"


def _drive(
    url: str, token: str, password: str, wrong: str, answers: list[httpx.Response]
) -> tuple[str, str]:
    """Requests carrying each secret every way a client might; the signed-in token and a
    submission. ``answers`` gets every answer that must hold no secret."""
    bearer = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=30) as http:
        signed_in = http.post(
            "/api/v1/auth/tokens", json={"username": "keeper", "password": password}
        )
        assert signed_in.status_code == 201, signed_in.text
        issued: str = signed_in.json()["token"]
        failed = http.post("/api/v1/auth/tokens", json={"username": "keeper", "password": wrong})
        assert failed.status_code == 401
        answers.append(failed)
        malformed = http.post(
            "/api/v1/auth/tokens", json={"username": "keeper", "password": wrong, "more": wrong}
        )
        assert malformed.status_code == 422
        answers.append(malformed)
        answers.append(http.get("/api/v1/me", headers=bearer))
        answers.append(http.get("/api/v1/me", headers={"Authorization": f"Bearer {wrong}"}))
        answers.append(http.get(f"/api/v1/me?access_token={token}"))
        answers.append(http.get(f"/api/v1/agents/{token}"))
        answers.append(http.get(f"/api/v1/nope?token={issued}&password={password}"))
        agent = http.post("/api/v1/agents", json={"name": "keep", "game": "rps"}, headers=bearer)
        assert agent.status_code == 201, agent.text
        sub = http.post(
            "/api/v1/submissions",
            json={"agentId": agent.json()["id"], "codeUrl": "https://git.example.com/k/k"},
            headers=bearer,
        )
        assert sub.status_code == 201, sub.text
        answers.extend([agent, sub])
        answers.append(http.get("/docs"))
        answers.append(http.get("/openapi.json"))
    return issued, sub.json()["submission"]["id"]


def _finish(database_url: str, submission_id: str) -> None:
    """End the submission's build, so that its event streams end by themselves."""
    engine = build_engine(database_url)
    try:
        with build_session_factory(engine)() as session:
            row = session.get(Submission, submission_id)
            assert row is not None
            for status in (SubmissionStatus.BUILDING, SubmissionStatus.BUILD_FAILED):
                row.move_to(status)
                session.flush()
            session.commit()
    finally:
        engine.dispose()


def _websockets(url: str, submission_id: str, tokens: list[str]) -> None:
    """The build's events over a WebSocket with each token in the query string (accepted for
    real tokens, refused for the unknown one), and once for a missing submission."""
    base = url.replace("http://", "ws://") + "/api/v1/submissions"
    targets = [f"{base}/{submission_id}/events?access_token={t}" for t in tokens]
    targets.append(f"{base}/sub-missing/events?access_token={tokens[0]}")
    for target in targets:
        try:
            with connect(target, open_timeout=10) as socket:
                for _ in range(10):
                    socket.recv(timeout=10)
        except (ConnectionClosed, OSError, TimeoutError):
            pass
        except Exception as exc:  # the handshake refused: the server closed before accepting
            if "403" not in str(exc) and "rejected" not in str(exc).lower():
                raise


def test_a_failed_start_does_not_print_the_password(tmp_path: Path) -> None:
    password = f"pg-{secrets.token_urlsafe(18)}"
    env = cli_env(tmp_path, f"postgresql+psycopg://someone:{password}@127.0.0.1:9/none")
    done = subprocess.run(
        [sys.executable, "-m", "botarena", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "127.0.0.1" in done.stdout + done.stderr  # it did say where it failed to connect
    assert password not in done.stdout + done.stderr


def test_settings_never_show_the_database_password() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql+psycopg://u:pg-not-for-eyes@h/db",
    )
    assert "pg-not-for-eyes" not in repr(settings)
    assert "pg-not-for-eyes" not in str(settings)
