"""Many concurrent clients cannot stall a real ``botarena serve``: on both databases every
answer comes within seconds, and is either served (200) or refused politely (503 with
``Retry-After``). Before admission control, 64 clients stalled the server until 30 s timeouts.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from support.live import LiveServer, cli_env, run_cli

CLIENTS = 128
REQUESTS_EACH = 5
# A stall shows as requests answered after 30 s (the pool's old timeout); nothing served or
# refused in line may take a third of that.
LONGEST_WAIT = 10.0


@dataclass
class Tally:
    """What the clients saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    slowest: float = 0.0


@dataclass(frozen=True)
class Site:
    url: str
    token: str
    submission: str
    server: LiveServer

    def log_tail(self) -> str:
        """The end of the server's log, for a failure's message."""
        return "\n".join(self.server.log_path.read_text().splitlines()[-40:])


@pytest.fixture
def live_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = cli_env(tmp_path, database_url)
    env["BOTARENA_LOG_LEVEL"] = "WARNING"
    return env


def _start(env: dict[str, str]) -> Iterator[Site]:
    made = run_cli(env, "user", "create", "loader")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    server = LiveServer(env)
    server.start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        agent = httpx.post(
            f"{server.url}/api/v1/agents",
            json={"name": "load", "game": "connectx"},
            headers=headers,
            timeout=30,
        )
        assert agent.status_code == 201, agent.text
        sub = httpx.post(
            f"{server.url}/api/v1/submissions",
            json={"agentId": agent.json()["id"], "codeUrl": "https://git.example.com/l/b"},
            headers=headers,
            timeout=30,
        )
        assert sub.status_code == 201, sub.text
        yield Site(server.url, token, sub.json()["submission"]["id"], server)
    finally:
        server.stop()


@pytest.fixture
def site(live_env: dict[str, str]) -> Iterator[Site]:
    yield from _start(live_env)


@pytest.fixture
def cramped_site(live_env: dict[str, str]) -> Iterator[Site]:
    """A server with two slots and a line of four: most of 128 clients must be refused."""
    yield from _start(
        {**live_env, "BOTARENA_MAX_CONCURRENT_REQUESTS": "2", "BOTARENA_MAX_QUEUED_REQUESTS": "4"}
    )


@pytest.fixture
def one_turn_site(live_env: dict[str, str]) -> Iterator[Site]:
    """A server with one turn and no line: anything holding the turn shows at once."""
    yield from _start(
        {**live_env, "BOTARENA_MAX_CONCURRENT_REQUESTS": "1", "BOTARENA_MAX_QUEUED_REQUESTS": "0"}
    )


async def _drive(site: Site) -> Tally:
    """CLIENTS clients at once, each on its own connection, REQUESTS_EACH requests each:
    build status and leaderboard anonymously, and every fourth client its own account (whose
    first use writes the token's last-use time from many reading requests at once)."""
    tally = Tally()
    paths = [
        f"/api/v1/submissions/{site.submission}/build-status",
        "/api/v1/leaderboard?game=connectx",
    ]
    start = asyncio.Event()
    # One TLS context for all (none is used on http://): each would load the CA bundle.
    context = ssl.create_default_context()

    async def client(index: int) -> None:
        headers = {"Authorization": f"Bearer {site.token}"} if index % 4 == 0 else {}
        async with httpx.AsyncClient(
            base_url=site.url, timeout=LONGEST_WAIT, verify=context
        ) as http:
            await start.wait()
            for turn in range(REQUESTS_EACH):
                path = "/api/v1/me" if headers else paths[(index + turn) % 2]
                began = time.monotonic()
                try:
                    answer = await http.get(path, headers=headers)
                except httpx.TimeoutException:
                    tally.problems.append(f"{path}: no answer in {LONGEST_WAIT} s")
                    continue
                except httpx.TransportError as exc:  # e.g. a connection closed unanswered
                    waited = time.monotonic() - began
                    tally.problems.append(f"{path}: {exc!r} after {waited:.1f} s (turn {turn})")
                    continue
                tally.slowest = max(tally.slowest, time.monotonic() - began)
                tally.statuses[answer.status_code] += 1
                if answer.status_code == 503:
                    if not answer.headers.get("retry-after", "").isdigit():
                        tally.problems.append(f"{path}: 503 without Retry-After")
                elif answer.status_code != 200:
                    tally.problems.append(f"{path}: {answer.status_code} {answer.text[:200]}")

    tasks = [asyncio.create_task(client(index)) for index in range(CLIENTS)]
    await asyncio.sleep(0.2)  # every client made before the first request leaves
    start.set()
    await asyncio.gather(*tasks)
    return tally


def test_128_clients_are_served_without_a_stall(site: Site) -> None:
    tally = asyncio.run(_drive(site))
    assert tally.problems == [], site.log_tail()
    assert sum(tally.statuses.values()) == CLIENTS * REQUESTS_EACH
    assert tally.statuses[200] > 0
    assert tally.slowest < LONGEST_WAIT
    # The server is still well afterwards.
    assert httpx.get(f"{site.url}/healthz").status_code == 200


def test_a_full_server_refuses_with_503_and_retry_after(cramped_site: Site) -> None:
    tally = asyncio.run(_drive(cramped_site))
    assert tally.problems == [], cramped_site.log_tail()
    assert tally.statuses[503] > 0, tally.statuses
    assert tally.statuses[200] > 0, tally.statuses
    assert set(tally.statuses) == {200, 503}
    refused = httpx.get(f"{cramped_site.url}/healthz")
    assert refused.status_code == 200


def test_slow_uploads_hold_no_turn(one_turn_site: Site) -> None:
    """Uploads that never finish sending their body (slowloris) take no turn: a request that
    needs one is still served at once."""
    host, port = one_turn_site.url.removeprefix("http://").split(":")
    head = (
        "POST /api/v1/submissions HTTP/1.1\r\n"
        f"Host: {host}\r\nAuthorization: Bearer {one_turn_site.token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        '{"agentId": "'
    ).encode()
    stalled = []
    try:
        for _ in range(3):
            connection = socket.create_connection((host, int(port)), timeout=5)
            connection.sendall(head)
            stalled.append(connection)
        time.sleep(0.5)  # the server has read what was sent and waits for the rest
        answer = httpx.get(
            f"{one_turn_site.url}/api/v1/submissions/{one_turn_site.submission}/build-status",
            timeout=LONGEST_WAIT,
        )
        assert answer.status_code == 200, answer.text
    finally:
        for connection in stalled:
            connection.close()
