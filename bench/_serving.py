"""What the benchmarks that start servers share: a server process on a free port, ready."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

READY_SECONDS = 60.0


@contextmanager
def serving(
    command: list[str], env: dict[str, str], log: Path, ready: float = READY_SECONDS
) -> Iterator[str]:
    """Run ``command --port N`` until the block ends; yields its URL once ``/healthz`` answers
    (within ``ready`` seconds)."""
    with served_process(command, env, log, ready) as (url, _process):
        yield url


@contextmanager
def served_process(
    command: list[str], env: dict[str, str], log: Path, ready: float = READY_SECONDS
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """:func:`serving`, yielding the server's process too (to read its CPU time)."""
    port = _free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, log, ready)
        yield url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, ready: float) -> None:
    deadline = time.monotonic() + ready
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server was not ready in {ready:g} s:\n{log.read_text()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str) -> str:
    """``botarena ARGS`` run with ``env``; its standard output (raises when it fails)."""
    done = subprocess.run(
        [sys.executable, "-m", "botarena", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return done.stdout


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` and its live descendants (each
    its own threads' time; children that ended are not counted), from ``/proc``."""
    clock = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After "pid (comm)": field 3 is the state, so utime (14) and stime (15) are 11 and 12.
        total += int(fields[11]) + int(fields[12])
    return total / clock


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    # Any thread may have started a child (uvicorn's supervisor starts its workers from one).
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += [int(child), *_descendants(int(child))]
    return found


def listening_pid(url: str) -> int:
    """The pid of the process listening on ``url``'s port (the server, whose CPU counts)."""
    port = int(url.rsplit(":", 1)[1])
    found = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"pid=(\d+)", found)
    if match is None:
        raise RuntimeError(f"no process listens on port {port}: {found!r}")
    return int(match.group(1))
