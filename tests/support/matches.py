"""Following matches through the API in tests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"
RANDOM = (EXAMPLES / "connectx-random" / "main.py").read_bytes()


def wait_for_end(client: TestClient, match_id: str, seconds: float = 60) -> dict[str, Any]:
    """The match once it has ended; fails the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/matches/{match_id}").json()
        if body["status"] in ("finished", "error", "cancelled"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"the match did not end: {body}")
