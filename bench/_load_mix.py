"""The mixed-traffic part of ``bench/api_load.py --mix``: a served platform doing real work,
the client loops (closed, or paced at a rate per client), and the per-route statistics."""

from __future__ import annotations

import asyncio
import io
import random
import ssl
import statistics
import sys
import tarfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CLIENT_TIMEOUT = 30.0
# The share of each route in the mix: pages poll a build's status most; people read boards and
# match lists; some create matches.
WEIGHTS = {"build-status": 4, "leaderboard": 2, "matches": 2, "create-match": 1}


@dataclass
class Target:
    """What the clients ask of one server: each route's request, and the bearer token."""

    url: str
    token: str = ""
    submission: str = ""
    agents: tuple[str, str] = ("", "")

    def request(self, route: str) -> tuple[str, str, dict[str, Any] | None]:
        if route == "build-status":
            return "GET", f"/api/v1/submissions/{self.submission}/build-status", None
        if route == "leaderboard":
            return "GET", "/api/v1/leaderboard?game=connectx", None
        if route == "matches":
            return "GET", "/api/v1/matches?limit=20", None
        if route == "create-match":
            body = {"agent1Id": self.agents[0], "agent2Id": self.agents[1]}
            return "POST", "/api/v1/matches", body
        if route == "hello":
            return "GET", "/hello", None
        raise ValueError(route)


@dataclass
class RouteStats:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def summary(self, took: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        ok = sum(n for status, n in self.statuses.items() if status.startswith("2"))
        return {
            "requests_per_second": round(ok / took, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
            "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1) if ordered else None,
            "errors": sum(self.statuses.values()) - ok,
            "statuses": dict(self.statuses),
        }


async def level(
    target: Target, routes: dict[str, int], clients: int, seconds: float, pace: float | None
) -> dict[str, Any]:
    """``clients`` loops for ``seconds``, each on its own connection, picking routes by
    weight: back to back (``pace`` None: a closed loop, which saturates the server), or each
    at ``pace`` requests per second (a request late by more than its interval is not made up)."""
    stats = {route: RouteStats() for route in routes}
    context = ssl.create_default_context()
    headers = {"Authorization": f"Bearer {target.token}"} if target.token else {}
    pool = [
        httpx.AsyncClient(
            base_url=target.url, timeout=CLIENT_TIMEOUT, verify=context, headers=headers
        )
        for _ in range(clients)
    ]
    names, weights = list(routes), list(routes.values())
    started = time.perf_counter()
    deadline = started + seconds

    async def one_client(index: int, client: httpx.AsyncClient) -> None:
        pick = random.Random(index)
        interval = 1.0 / pace if pace else 0.0
        due = started + pick.random() * interval
        async with client:
            while True:
                now = time.perf_counter()
                if interval:
                    if due > now:
                        await asyncio.sleep(due - now)
                    due = max(due + interval, time.perf_counter())
                if time.perf_counter() >= deadline:
                    return
                route = pick.choices(names, weights)[0]
                method, path, body = target.request(route)
                sent = time.perf_counter()
                try:
                    answer = await client.request(method, path, json=body)
                    stats[route].statuses[str(answer.status_code)] += 1
                except httpx.TimeoutException:
                    stats[route].statuses["timeout"] += 1
                except httpx.TransportError as exc:
                    stats[route].statuses[type(exc).__name__] += 1
                    await asyncio.sleep(0.05)
                    continue
                stats[route].latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(one_client(i, c) for i, c in enumerate(pool)))
    took = time.perf_counter() - started
    per_route = {route: s.summary(took) for route, s in stats.items()}
    every = RouteStats([x for s in stats.values() for x in s.latencies])
    for s in stats.values():
        every.statuses.update(s.statuses)
    return {"all": every.summary(took), **per_route}


def archive_of(folder: Path) -> bytes:
    """``folder`` as a gzipped tar, as ``botarena submit`` sends one."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                tar.add(path, arcname=str(path.relative_to(folder)))
    return data.getvalue()


def prepare_work(url: str, token: str) -> Target:
    """An agent of the bench's user with a submission (its build status is what clients poll),
    and two of the demo's agents, active (so created matches are played)."""
    headers = {"Authorization": f"Bearer {token}"}
    agent = httpx.post(
        f"{url}/api/v1/agents", json={"name": "load", "game": "connectx"}, headers=headers
    )
    agent.raise_for_status()
    submission = submit(url, token, agent.json()["id"])
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        rows = httpx.get(f"{url}/api/v1/leaderboard", params={"game": "connectx"}).json()["items"]
        played = [row["agentId"] for row in rows if row["games"] > 0]
        if len(played) >= 2:
            return Target(url, token, submission, (played[0], played[1]))
        time.sleep(1)
    raise RuntimeError("the demo's agents played no ladder match in 5 minutes")


def submit(url: str, token: str, agent_id: str) -> str:
    archive = archive_of(ROOT / "examples" / "agents" / "connectx-random")
    answer = httpx.post(
        f"{url}/api/v1/agents/{agent_id}/submissions",
        files={"archive": ("bot.tar.gz", archive, "application/gzip")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=CLIENT_TIMEOUT,
    )
    answer.raise_for_status()
    body = answer.json()
    submission_id: str = body["submission"]["id"] if "submission" in body else body["id"]
    return submission_id


@contextmanager
def builds_flowing(url: str, token: str, every: float) -> Iterator[Counter[str]]:
    """Submit a new version of a second agent every ``every`` seconds while the block runs, so
    builds go on during the measurements (the ladder plays on its own)."""
    counts: Counter[str] = Counter()
    stop = threading.Event()
    agent = httpx.post(
        f"{url}/api/v1/agents",
        json={"name": "load-builds", "game": "connectx"},
        headers={"Authorization": f"Bearer {token}"},
    )
    agent.raise_for_status()

    def loop() -> None:
        while not stop.wait(every):
            try:
                submit(url, token, agent.json()["id"])
                counts["submitted"] += 1
            except httpx.HTTPError as exc:
                counts[f"failed: {exc}"[:80]] += 1

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield counts
    finally:
        stop.set()
        thread.join()


def work_done(url: str) -> dict[str, int]:
    """Builds and matches finished so far (read from the API, once)."""
    matches = httpx.get(f"{url}/api/v1/matches", params={"limit": 1}, timeout=CLIENT_TIMEOUT)
    finished = httpx.get(
        f"{url}/api/v1/leaderboard", params={"game": "connectx"}, timeout=CLIENT_TIMEOUT
    )
    return {
        "matches_total": int(matches.json()["total"]),
        "ladder_games_on_board": sum(int(r["games"]) for r in finished.json()["items"]) // 2,
    }


if __name__ == "__main__":
    sys.exit("run bench/api_load.py --mix")
