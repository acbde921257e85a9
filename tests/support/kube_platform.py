"""The platform with both Kubernetes modes, as one scenario run on the fake API server or on
a real cluster: two submissions built as Kaniko Jobs, validated and ranked by the ladder
through match Jobs, every match a Job of its own."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from botarena.app import create_app
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.build_status import wait_for_build

RANKED_GAMES = 2


def ensure_namespace(api: client.ApiClient, name: str) -> None:
    """``name`` made unless it exists (a real cluster's may have been made by the chart)."""
    try:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    except ApiException as exc:
        if exc.status != 409:
            raise


def play_the_platform(
    settings: Settings,
    api: client.ApiClient,
    agent_code: bytes,
    accounts: tuple[Account, Account],
    *,
    seconds: float,
) -> None:
    """Run the scenario on ``settings`` (both Kubernetes modes on) and check what it left."""
    batch = client.BatchV1Api(api)
    matches = settings.k8s_match_namespace
    since = batch.list_namespaced_job(matches).metadata.resource_version
    with TestClient(create_app(settings)) as app:
        submissions = []
        for account in accounts:
            agent = create_agent(app, account, f"{account.username}-on-k8s")
            sub = submit_archive(app, account, agent, zip_files({"main.py": agent_code}))
            submissions.append((account, sub))
        for account, sub in submissions:
            status = wait_for_build(app, sub, seconds=seconds)
            assert status["status"] == "success", status
            assert status["buildJobName"] == f"build-{sub}"
            assert status["dockerImageUrl"].startswith(f"{settings.k8s_registry}/")
            assert "@sha256:" in status["dockerImageUrl"]
            log = app.get(f"/api/v1/submissions/{sub}/build-logs", headers=account.headers)
            text = log.json()["buildLog"]
            assert "Taking snapshot of full filesystem" in text and "validating" in text, text
            activated = app.post(f"/api/v1/submissions/{sub}/activate", headers=account.headers)
            assert activated.status_code == 200, activated.text
        rows = _ranked(app, seconds)
        listed = app.get("/api/v1/matches", params={"limit": 50}).json()["items"]
    assert len(rows) == 2 and all(int(str(r["games"])) >= RANKED_GAMES for r in rows), rows
    assert [r["rank"] for r in rows] == [1, 2]
    finished = [m for m in listed if m["status"] == "finished"]
    assert finished and all(m["ranked"] for m in finished), listed
    # Every match, the two validation matches included, was a Job of its own.
    added = {
        event["object"].metadata.name
        for event in watch.Watch().stream(
            batch.list_namespaced_job, matches, resource_version=since, timeout_seconds=1
        )
        if event["type"] == "ADDED"
    }
    assert len(added) >= 2 + len(finished), (added, finished)


def _ranked(app: TestClient, seconds: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = app.get("/api/v1/leaderboard", params={"game": "connectx"}).json()["items"]
        if len(rows) == 2 and all(int(str(r["games"])) >= RANKED_GAMES for r in rows):
            break
        time.sleep(0.5)
    return rows
