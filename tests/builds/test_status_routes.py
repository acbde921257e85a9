"""The build status and log as the API describes them: their routes moved to builds/, and a
client generated from the description finds them as before (operation ids, tag, fields)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory

from support.accounts import Account
from support.api import create_agent, submit_url

STATUS = "/api/v1/submissions/{submission_id}/build-status"
LOGS = "/api/v1/submissions/{submission_id}/build-logs"


def test_their_operations_keep_their_ids_and_tag(client: TestClient) -> None:
    paths: dict[str, Any] = client.get("/openapi.json").json()["paths"]
    status, logs = paths[STATUS]["get"], paths[LOGS]["get"]
    assert (
        status["operationId"] == "build_status_api_v1_submissions__submission_id__build_status_get"
    )
    assert logs["operationId"] == "build_logs_api_v1_submissions__submission_id__build_logs_get"
    assert status["tags"] == logs["tags"] == ["agents"]


def test_the_pod_name_is_described_null_without_a_pod_and_shown_with_one(
    client: TestClient, alice: Account, session_factory: SessionFactory
) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["BuildStatus"]
    assert (
        "null on the local and docker backends"
        in schema["properties"]["buildPodName"]["description"]
    )
    sub = submit_url(client, alice, create_agent(client, alice, "podless"))
    body = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    assert body["buildPodName"] is None and body["buildJobName"] is None
    with session_factory() as session:  # what a backend that builds in pods records
        row = session.get(Submission, sub)
        assert row is not None
        row.build_pod_name = "build-pod-1"
        session.commit()
    body = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    assert body["buildPodName"] == "build-pod-1"
