"""``botarena serve --workers 2``: two HTTP processes on one port, the background services
once, live pages of each worker hearing them, a clean stop; refused on SQLite."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from support.live import LiveServer, cli_env, run_cli
from support.services import require_sandbox


def test_several_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    refused = run_cli(cli_env(tmp_path, None), "serve", "--workers", "2")
    assert refused.returncode == 2
    assert "--workers 2 needs PostgreSQL" in refused.stderr
    assert not (tmp_path / "data" / "metrics").exists()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_workers_serve_and_the_background_runs_once(tmp_path: Path, database_url: str) -> None:
    require_sandbox()
    env = cli_env(tmp_path, database_url)
    env.update(
        BOTARENA_BUILDS_ENABLED="true",
        BOTARENA_MATCHES_ENABLED="true",
        BOTARENA_LADDER_ENABLED="true",
        BOTARENA_LADDER_INTERVAL="0.2",
        BOTARENA_LADDER_RATE="600",
    )
    live = LiveServer(env)
    live.start("--workers", "2", "--demo", timeout=60)
    assert live.process is not None
    supervisor = live.process.pid
    try:
        workers = _worker_pids(supervisor)
        assert len(workers) == 2
        assert _served_by(workers, live.port) == set(workers)
        streams = _streams_on(workers, live.port)
        # The demo's examples are built and play the ladder: the work flows, from here.
        rows = _wait_for_games(live.url)
        assert sum(1 for row in rows if int(str(row["games"])) > 0) >= 2, rows
        # A leaderboard page served by either worker heard the supervisor's ratings change.
        for stream in streams:
            assert stream.heard.wait(30), f"the stream on worker {stream.worker} heard nothing"
    finally:
        live.stop()
    assert all(not _alive(pid) for pid in workers)
    # The supervisor and each worker migrated and started its bus; one started the services.
    assert live.output.count('"database ready"') == 3, live.output
    assert live.output.count('"background services started"') == 1, live.output
    assert "Traceback" not in live.output
    metrics = Path(env["BOTARENA_DATA_DIR"]) / "metrics"
    assert metrics.is_dir() and oct(metrics.stat().st_mode & 0o777) == "0o700"


def _worker_pids(supervisor: int) -> list[int]:
    """The HTTP worker processes of ``supervisor`` (its spawned Python children)."""
    found = []
    for child in Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            found.append(int(child))
    return found


def _served_by(workers: list[int], port: int) -> set[int]:
    """The workers that accepted at least one of many kept-open connections."""
    clients = []
    seen: set[int] = set()
    try:
        for _ in range(64):
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
            clients.append(client)
            assert client.get("/api/v1/leaderboard", params={"game": "connectx"}).status_code == 200
            seen = {pid for pid in workers if _peers(pid, port)}
            if seen == set(workers):
                break
    finally:
        for client in clients:
            client.close()
    return seen


class _Stream(threading.Thread):
    """A browser on the leaderboard's live page: heard once an event arrives."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.port = 0
        self.worker = 0
        self.opened = threading.Event()
        self.heard = threading.Event()

    def run(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(10, read=None)) as client,
                client.stream("GET", self.url) as answer,
            ):
                self.port = answer.extensions["network_stream"].get_extra_info("client_addr")[1]
                self.opened.set()
                for line in answer.iter_lines():
                    if line.startswith("event:"):
                        self.heard.set()
                        return
        except httpx.HTTPError:
            self.opened.set()


def _streams_on(workers: list[int], port: int) -> list[_Stream]:
    """Live leaderboard streams, opened until each worker serves one; one per worker."""
    chosen: dict[int, _Stream] = {}
    for _ in range(32):
        stream = _Stream(f"http://127.0.0.1:{port}/live/games/connectx")
        stream.start()
        assert stream.opened.wait(10)
        for pid in workers:
            if stream.port in _peers(pid, port):
                stream.worker = pid
                chosen.setdefault(pid, stream)
        if len(chosen) == len(workers):
            return list(chosen.values())
    raise AssertionError(f"streams reached workers {sorted(chosen)} of {workers} only")


def _peers(pid: int, port: int) -> set[int]:
    """The client ports of the established TCP connections on local ``port`` that process
    ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    peers = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            peers.add(int(fields[2].split(":")[1], 16))
    return peers


def _wait_for_games(url: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + 120
    rows: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        answer = httpx.get(f"{url}/api/v1/leaderboard", params={"game": "connectx"})
        rows = answer.json()["items"]
        if sum(1 for row in rows if int(str(row["games"])) > 0) >= 2:
            break
        time.sleep(0.5)
    return rows


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
