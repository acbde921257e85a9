"""What the benchmarks that start servers share: a server process on a free port, ready."""

from __future__ import annotations

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
    port = _free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, log, ready)
        yield url
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
