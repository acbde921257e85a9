"""Submissions by URL: creation, versions, filters, build status and logs, (de)activation."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.db.engine import SessionFactory

from support.accounts import Account

S = SubmissionStatus
BUILT = [S.BUILDING, S.SUCCESS]


def test_create_answers_the_documented_body(
    client: TestClient, alice: Account, agent_id: str
) -> None:
    answer = client.post(
        "/api/v1/submissions",
        json={"agentId": agent_id, "codeUrl": "https://git.example.com/a/b.git", "ref": "v1.0"},
        headers=alice.headers,
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["message"] == "Submission created successfully"
    sub = body["submission"]
    assert {
        "id",
        "agentId",
        "version",
        "status",
        "codeUrl",
        "ref",
        "commitSha",
        "createdAt",
        "updatedAt",
    } <= set(sub)
    assert re.fullmatch(r"sub-[0-9a-f]+", sub["id"]) and len(sub["id"]) <= 32
    assert sub["agentId"] == agent_id and sub["version"] == 1 and sub["status"] == "pending"
    assert sub["codeUrl"] == "https://git.example.com/a/b.git" and sub["ref"] == "v1.0"
    assert sub["commitSha"] is None and sub["archiveSha256"] is None


def test_versions_count_up_per_agent(
    client: TestClient, alice: Account, agent_id: str, submit_url
) -> None:
    versions = [submit_url()["version"] for _ in range(3)]
    assert versions == [1, 2, 3]
    other = client.post(
        "/api/v1/agents", json={"name": "second", "game": "rps"}, headers=alice.headers
    ).json()
    first_of_other = client.post(
        "/api/v1/submissions",
        json={"agentId": other["id"], "codeUrl": "https://git.example.com/x/y"},
        headers=alice.headers,
    ).json()["submission"]
    assert first_of_other["version"] == 1
    detail = client.get(f"/api/v1/agents/{agent_id}").json()
    assert [s["version"] for s in detail["submissions"]] == [1, 2, 3]


def test_new_submission_stays_pending_with_a_queue_position(client: TestClient, submit_url) -> None:
    first, second = submit_url(), submit_url()
    status = client.get(f"/api/v1/submissions/{second['id']}/build-status")
    assert status.status_code == 200
    body = status.json()
    assert set(body) == {
        "submissionId",
        "status",
        "buildJobName",
        "buildPodName",
        "dockerImageUrl",
        "errorMessage",
        "warnings",
        "queuePosition",
        "statusHistory",
        "createdAt",
        "updatedAt",
    }
    assert body["status"] == "pending" and body["warnings"] == []
    assert body["buildJobName"] is None and body["dockerImageUrl"] is None
    assert body["errorMessage"] is None and body["buildPodName"] is None
    # The agent's first submission goes ahead of its re-submission.
    assert body["queuePosition"] == 1
    first_status = client.get(f"/api/v1/submissions/{first['id']}/build-status").json()
    assert first_status["queuePosition"] == 0
    assert [h["status"] for h in body["statusHistory"]] == ["pending"]


def test_filters_by_status_and_agent(
    client: TestClient, alice: Account, agent_id: str, submit_url, force_status
) -> None:
    a, b, c = submit_url(), submit_url(), submit_url()
    force_status(b["id"], [S.BUILDING])
    building = client.get("/api/v1/submissions", params={"status": "building"}).json()
    assert [s["id"] for s in building["items"]] == [b["id"]] and building["total"] == 1
    pending = client.get(
        "/api/v1/submissions", params={"status": "pending", "agentId": agent_id}
    ).json()
    assert [s["id"] for s in pending["items"]] == [a["id"], c["id"]]
    assert client.get("/api/v1/submissions", params={"agentId": "agt-none"}).json()["total"] == 0
    bad = client.get("/api/v1/submissions", params={"status": "finished"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "status"


def test_build_logs_before_a_build_is_404(client: TestClient, alice: Account, submit_url) -> None:
    sub = submit_url()
    answer = client.get(f"/api/v1/submissions/{sub['id']}/build-logs", headers=alice.headers)
    assert answer.status_code == 404
    assert answer.json() == {
        "error": "Build logs not available",
        "message": "Logs may not be available yet or build has not started",
    }


def test_build_logs_are_private_to_owner_and_admins(
    client: TestClient,
    alice: Account,
    bob: Account,
    admin: Account,
    submit_url,
    session_factory: SessionFactory,
) -> None:
    sub = submit_url()
    with session_factory() as session:
        row = session.get(Submission, sub["id"])
        assert row is not None
        row.build_log = "Collecting numpy\nSuccessfully installed numpy\n"
        session.commit()
    url = f"/api/v1/submissions/{sub['id']}/build-logs"
    mine = client.get(url, headers=alice.headers)
    assert mine.status_code == 200
    assert mine.json()["buildLog"].startswith("Collecting numpy")
    assert set(mine.json()) == {"submissionId", "status", "buildLog", "updatedAt"}
    assert client.get(url, headers=admin.headers).status_code == 200
    for headers in (bob.headers, {}):
        hidden = client.get(url, headers=headers)
        assert hidden.status_code == 404
        assert hidden.json()["error"] == "Build logs not available"
    # Statuses stay public.
    assert client.get(f"/api/v1/submissions/{sub['id']}/build-status").status_code == 200


def test_activate_replaces_the_previous_active_one(
    client: TestClient, alice: Account, agent_id: str, submit_url, force_status
) -> None:
    first, second = submit_url(), submit_url()
    force_status(first["id"], BUILT)
    force_status(second["id"], BUILT)
    one = client.post(f"/api/v1/submissions/{first['id']}/activate", headers=alice.headers)
    assert one.status_code == 200 and one.json()["status"] == "active"
    two = client.post(f"/api/v1/submissions/{second['id']}/activate", headers=alice.headers)
    assert two.status_code == 200 and two.json()["status"] == "active"
    statuses = {
        s["id"]: s["status"] for s in client.get(f"/api/v1/agents/{agent_id}").json()["submissions"]
    }
    assert statuses == {first["id"]: "inactive", second["id"]: "active"}
    assert client.get(f"/api/v1/agents/{agent_id}").json()["activeSubmissionId"] == second["id"]
    # An older version comes back: inactive -> active, and the other turns inactive.
    back = client.post(f"/api/v1/submissions/{first['id']}/activate", headers=alice.headers)
    assert back.status_code == 200
    statuses = {
        s["id"]: s["status"] for s in client.get(f"/api/v1/agents/{agent_id}").json()["submissions"]
    }
    assert statuses == {first["id"]: "active", second["id"]: "inactive"}
    history = client.get(f"/api/v1/submissions/{first['id']}/build-status").json()["statusHistory"]
    assert [h["status"] for h in history] == [
        "pending",
        "building",
        "success",
        "active",
        "inactive",
        "active",
    ]


def test_activating_an_unbuilt_submission_changes_nothing(
    client: TestClient, alice: Account, agent_id: str, submit_url, force_status
) -> None:
    active, pending = submit_url(), submit_url()
    force_status(active["id"], BUILT)
    client.post(f"/api/v1/submissions/{active['id']}/activate", headers=alice.headers)
    refused = client.post(f"/api/v1/submissions/{pending['id']}/activate", headers=alice.headers)
    assert refused.status_code == 409
    assert refused.json()["error"] == "Submission cannot go from pending to active"
    statuses = {
        s["id"]: s["status"] for s in client.get(f"/api/v1/agents/{agent_id}").json()["submissions"]
    }
    assert statuses == {active["id"]: "active", pending["id"]: "pending"}


def test_deactivate(client: TestClient, alice: Account, submit_url, force_status) -> None:
    sub = submit_url()
    force_status(sub["id"], BUILT)
    not_yet = client.post(f"/api/v1/submissions/{sub['id']}/deactivate", headers=alice.headers)
    assert not_yet.status_code == 409
    assert not_yet.json()["error"] == "Submission cannot go from success to inactive"
    client.post(f"/api/v1/submissions/{sub['id']}/activate", headers=alice.headers)
    done = client.post(f"/api/v1/submissions/{sub['id']}/deactivate", headers=alice.headers)
    assert done.status_code == 200 and done.json()["status"] == "inactive"


def test_only_the_owner_or_an_admin_acts_on_submissions(
    client: TestClient,
    alice: Account,
    bob: Account,
    admin: Account,
    agent_id: str,
    submit_url,
    force_status,
) -> None:
    sub = submit_url()
    force_status(sub["id"], BUILT)
    refused = client.post(f"/api/v1/submissions/{sub['id']}/activate", headers=bob.headers)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "Only the members of the agent's team can change its submissions"
    }
    assert client.get(f"/api/v1/submissions/{sub['id']}").json()["status"] == "success"
    submit = client.post(
        "/api/v1/submissions",
        json={"agentId": agent_id, "codeUrl": "https://git.example.com/bob/x"},
        headers=bob.headers,
    )
    assert submit.status_code == 403
    assert submit.json() == {"error": "Only the members of the agent's team can submit to it"}
    assert client.get("/api/v1/submissions").json()["total"] == 1
    by_admin = client.post(f"/api/v1/submissions/{sub['id']}/activate", headers=admin.headers)
    assert by_admin.status_code == 200
    anonymous = client.post(f"/api/v1/submissions/{sub['id']}/deactivate")
    assert anonymous.status_code == 401


def test_unknown_ids_are_404(client: TestClient, alice: Account) -> None:
    missing = "sub-000000000000000000000000"
    for method, path in (
        ("GET", f"/api/v1/submissions/{missing}"),
        ("GET", f"/api/v1/submissions/{missing}/build-status"),
        ("POST", f"/api/v1/submissions/{missing}/activate"),
        ("POST", f"/api/v1/submissions/{missing}/deactivate"),
    ):
        answer = client.request(method, path, headers=alice.headers)
        assert answer.status_code == 404, path
        assert answer.json() == {"error": "Submission not found"}
    to_nobody = client.post(
        "/api/v1/submissions",
        json={"agentId": "agt-nope", "codeUrl": "https://git.example.com/a/b"},
        headers=alice.headers,
    )
    assert to_nobody.status_code == 404 and to_nobody.json() == {"error": "Agent not found"}


def test_where_the_source_lives_is_private(
    client: TestClient, alice: Account, bob: Account, admin: Account, agent_id: str, submit_url
) -> None:
    sub = submit_url("https://git.example.com/alice/secret-strategy.git", ref="main")
    for headers in (bob.headers, {}):
        seen = client.get(f"/api/v1/submissions/{sub['id']}", headers=headers).json()
        assert seen["codeUrl"] is None and seen["ref"] is None and seen["status"] == "pending"
        listed = client.get("/api/v1/submissions", headers=headers).json()["items"][0]
        assert listed["codeUrl"] is None
        detail = client.get(f"/api/v1/agents/{agent_id}", headers=headers).json()
        assert detail["submissions"][0]["codeUrl"] is None
    for headers in (alice.headers, admin.headers):
        seen = client.get(f"/api/v1/submissions/{sub['id']}", headers=headers).json()
        assert seen["codeUrl"] == "https://git.example.com/alice/secret-strategy.git"
        assert seen["ref"] == "main"
