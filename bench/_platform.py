"""What the benchmarks that drive the real app share: a new user's request headers.

Imported after the script has put ``src`` on the path."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botarena.accounts.service import AccountService
from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory, session_scope
from botarena.executor.credentials import CertificateAuthority


def new_user_headers(factory: SessionFactory, username: str) -> dict[str, str]:
    """A new user, straight in the database; the headers that act as them."""
    with session_scope(factory) as session:
        _user, issued = AccountService(session).create_user(username, None)
    return {"Authorization": f"Bearer {issued.secret}"}


def built_agents(
    client: Any, factory: SessionFactory, headers: dict[str, str], artifact: str
) -> list[str]:
    """Two connectx agents of the headers' user, each with a submission marked built from
    ``artifact`` (the JSON of a build's artifact), made through the API; their ids."""
    agents = []
    for name in ("left", "right"):
        agent = client.post(
            "/api/v1/agents", json={"name": name, "game": "connectx"}, headers=headers
        ).json()["id"]
        sub = client.post(
            "/api/v1/submissions",
            json={"agentId": agent, "codeUrl": "https://git.example.com/bench/bot"},
            headers=headers,
        ).json()["submission"]["id"]
        with session_scope(factory) as session:
            row = session.get(Submission, sub)
            assert row is not None
            row.status, row.artifact = "success", artifact
            session.commit()
        agents.append(agent)
    return agents


@contextmanager
def executor_process(
    folder: Path, capacity: int = 2, env: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """``botarena executor`` as a process of its own on a free port, sharing ``folder`` (the
    server's data folder: its artifacts, and the authority the executor's certificate comes
    from); yields its address and pid. ``env``: its environment (this process's by default)."""
    CertificateAuthority.open_or_create(folder / "pki")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "botarena", "executor"),
            *("--listen", "127.0.0.1:0", "--capacity", str(capacity)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**(os.environ if env is None else env), "BOTARENA_DATA_DIR": str(folder)},
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip().rsplit(":", 1)[1]
    try:
        yield f"127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(30)
