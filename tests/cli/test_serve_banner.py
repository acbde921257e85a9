"""``botarena serve`` says on the terminal, not only in its log, when builds or matches cannot
run and why; with ``--demo`` it prints the UI's address and a one-time login link that works,
once, and is never logged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from botarena.accounts.login_links import LoginLinkService
from botarena.accounts.models import LoginLink
from botarena.db.engine import build_engine, build_session_factory
from botarena.errors import AppError

from support.live import LiveServer, cli_env

NO_BWRAP = (
    "bubblewrap is not installed (install the bubblewrap package: sudo apt-get install bubblewrap)"
)


def _without_bwrap(tmp_path: Path) -> dict[str, str]:
    """A server environment on a PATH that holds no bubblewrap, builds and matches on."""
    empty = tmp_path / "bin"
    empty.mkdir()
    env = cli_env(tmp_path, None)
    env.update(
        PATH=str(empty),
        BOTARENA_BUILDS_ENABLED="true",
        BOTARENA_MATCHES_ENABLED="true",
        BOTARENA_BUILD_BACKEND="local",
    )
    return env


def _log_lines(output: str) -> list[dict[str, object]]:
    lines = []
    for line in output.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_without_bubblewrap_the_banner_says_builds_and_matches_cannot_run(
    tmp_path: Path,
) -> None:
    server = LiveServer(_without_bwrap(tmp_path))
    server.start()
    server.stop()
    banner = [line for line in server.output.splitlines() if not line.startswith("{")]
    assert f"botarena is serving at http://127.0.0.1:{server.port}/ " in banner[0]
    assert f"warning: builds cannot run (submissions wait): {NO_BWRAP}" in banner
    assert f"warning: matches cannot run (matches wait): {NO_BWRAP}" in banner
    warnings = [
        line
        for line in _log_lines(server.output)
        if line.get("event") == "part of the platform cannot run"
    ]
    assert {(w["part"], w["reason"], w["level"]) for w in warnings} == {
        ("builds", NO_BWRAP, "warning"),
        ("matches", NO_BWRAP, "warning"),
    }


def test_an_unreachable_engine_is_named_in_the_banner(tmp_path: Path) -> None:
    env = cli_env(tmp_path, None)
    env.update(
        BOTARENA_BUILDS_ENABLED="true",
        BOTARENA_BUILD_BACKEND="docker",
        BOTARENA_DOCKER_HOST=f"unix://{tmp_path / 'no-engine.sock'}",
    )
    server = LiveServer(env)
    server.start()
    server.stop()
    [warning] = [line for line in server.output.splitlines() if line.startswith("warning:")]
    assert warning.startswith(
        "warning: builds cannot run (submissions wait): the container engine cannot be reached"
    )
    assert warning.endswith(
        "; start the Docker engine (sudo systemctl start docker) and let this user use it, point "
        "BOTARENA_DOCKER_HOST at a running engine, or build without one "
        "(BOTARENA_BUILD_BACKEND=local)"
    )


def test_a_server_with_nothing_to_build_or_play_warns_of_nothing(tmp_path: Path) -> None:
    # Builds and matches off (cli_env's default): no part to warn about, whatever the machine.
    env = cli_env(tmp_path, None)
    env["PATH"] = str(tmp_path)
    server = LiveServer(env)
    server.start()
    server.stop()
    assert "warning:" not in server.output
    assert "cannot run" not in server.output


def test_the_demo_prints_a_one_time_login_link_and_never_logs_it(tmp_path: Path) -> None:
    env = _without_bwrap(tmp_path)
    server = LiveServer(env)
    server.start("--demo")
    server.stop()
    output = server.output
    found = re.findall(rf"http://127\.0\.0\.1:{server.port}/login/once\?token=(bal_[\w-]+)", output)
    assert len(found) == 1, output
    secret = found[0]
    # Once in the whole output: on the terminal line, in no log line (redacted or not).
    assert output.count(secret[4:]) == 1
    assert not any(secret[4:] in json.dumps(line) for line in _log_lines(output))
    assert "this link works once, for 10 minutes" in output
    assert "builds cannot run yet: see the warning above" in output
    # The printed link signs the demo admin in, once.
    engine = build_engine(f"sqlite:///{tmp_path / 'data' / 'botarena.db'}")
    try:
        factory = build_session_factory(engine)
        with factory() as session:
            assert LoginLinkService(session).redeem(secret).username == "demo"
        with factory() as session, pytest.raises(AppError, match="already used"):
            LoginLinkService(session).redeem(secret)
        with factory() as session:
            [link] = session.scalars(select(LoginLink)).all()
            assert secret not in link.token_hash
    finally:
        engine.dispose()
