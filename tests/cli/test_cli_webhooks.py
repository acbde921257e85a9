"""``botarena webhook …`` against a live ``botarena serve`` whose delivery worker sends a test
event to a real receiver, signed with the secret the command printed once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from botarena.notifications.signing import verify

from support.live import LiveServer, cli_env, run_cli
from support.webhook_receiver import Receiver, webhook_receiver

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = cli_env(tmp_path, database_url)
    env["BOTARENA_WEBHOOK_ALLOW_HTTP"] = "true"
    env["BOTARENA_WEBHOOK_ALLOW_HOSTS"] = "127.0.0.1"
    env["BOTARENA_NOTIFY_INTERVAL"] = "0.2"
    return env


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[LiveServer]:
    live = LiveServer(env)
    live.start()
    yield live
    live.stop()


def _ok(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = run_cli(env, *args, stdin=stdin)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


@sqlite_only
def test_a_webhook_added_and_tested_from_the_command_line(
    env: dict[str, str], server: LiveServer, receiver: Receiver
) -> None:
    _ok(env, "user", "create", "dana", "--password-stdin", stdin="dana-pw-12\n")
    _ok(env, "login", "--server", server.url, stdin="dana\ndana-pw-12\n")
    made = json.loads(_ok(env, "webhook", "add", receiver.url, "-e", "build.finished", "--json"))
    secret = made["secret"]
    listed = _ok(env, "webhook", "list")
    assert made["id"] in listed and secret not in listed

    assert "queued" in _ok(env, "webhook", "test", made["id"])
    deadline = time.monotonic() + 15
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.1)
    [request] = receiver.received
    assert verify(secret, request.headers["X-Botarena-Signature"], request.body, int(time.time()))
    while time.monotonic() < deadline:
        [item] = json.loads(_ok(env, "webhook", "deliveries", "--json"))
        if item["status"] == "delivered":
            break
        time.sleep(0.2)
    assert item["status"] == "delivered" and item["lastStatusCode"] == 200

    rotated = _ok(env, "webhook", "rotate-secret", made["id"])
    assert "shown this once" in rotated and secret not in rotated
    assert f"removed {made['id']}" in _ok(env, "webhook", "remove", made["id"])
    assert json.loads(_ok(env, "webhook", "list", "--json")) == []
    log = server.log_path.read_text()
    assert "notification attempt" in log and secret not in log
