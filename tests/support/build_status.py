"""Following builds through the API in tests."""

from __future__ import annotations

import time
from typing import Any

import httpx

FINISHED = ("success", "build_failed")


def wait_for_build(client: httpx.Client, submission_id: str, seconds: float = 60) -> dict[str, Any]:
    """The build status once the build has finished (``success`` or ``build_failed``); fails
    the test after ``seconds``. ``client`` is the app's test client, or an HTTP client whose
    base URL is a live server."""
    deadline = time.monotonic() + seconds
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/submissions/{submission_id}/build-status").json()
        if body["status"] in FINISHED:
            return body
        time.sleep(0.2)
    raise AssertionError(f"the build did not finish: {body}")
