"""A real ``botarena serve`` process on a free loopback port, and a way to run CLI commands."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """``botarena serve`` running as a child process with its own data folder."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    output: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra: str, timeout: float = 60.0) -> None:
        log = Path(self.env["BOTARENA_DATA_DIR"]).parent / f"serve-{self.port}.log"
        self._log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "botarena", "serve", "--port", str(self.port), *extra],
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"botarena serve exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"botarena serve was not ready in {timeout}s:\n{log.read_text()}")

    @property
    def log_path(self) -> Path:
        """Where the server's output goes (kept after it stops)."""
        return self._log

    def kill(self) -> None:
        """End the server at once, as a crash would (no shutdown of its own)."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None
        self.output = self._log.read_text()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self.output = self._log.read_text()


def run_cli(
    env: dict[str, str], *args: str, stdin: str = "", timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run ``botarena ARGS…`` as a user would, returning its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "botarena", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def cli_env(tmp_path: Path, database_url: str | None) -> dict[str, str]:
    """A clean environment: own data folder, own config folder, no inherited BOTARENA_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTARENA_")}
    env["BOTARENA_DATA_DIR"] = str(tmp_path / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["HOME"] = str(tmp_path / "home")
    env["BOTARENA_LOG_FORMAT"] = "json"
    # These servers test the API and the CLI; builds are tested on their own.
    env["BOTARENA_BUILDS_ENABLED"] = "false"
    env["BOTARENA_MATCHES_ENABLED"] = "false"
    env["BOTARENA_LADDER_ENABLED"] = "false"
    env["COLUMNS"] = "200"
    if database_url:
        env["BOTARENA_DATABASE_URL"] = database_url
    return env
