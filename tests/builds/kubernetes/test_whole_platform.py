"""The platform with both Kubernetes modes on the fake API server: builds as Kaniko Jobs
(the stand-in building on the test engine and pushing to the test registry), the validation
match and every ladder match as match Jobs (the Docker kubelet running the referee's
stand-in image and the agents' pushed images). Submissions go in through the API and come
out ranked on the leaderboard, with nothing built or played outside the cluster's Jobs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kubernetes import client, config, watch

from botarena.app import create_app
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.build_status import wait_for_build
from support.docker import Registry
from support.kube_builds import kube_settings, prepare_cluster
from support.kubefake import FakeKubernetes

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "agents"
RANDOM_AGENT = (EXAMPLES / "connectx-random" / "main.py").read_bytes()
MATCHES = "botarena-matches"


def test_submissions_are_built_validated_and_ranked_through_kubernetes_jobs(
    settings: Settings,
    kaniko_kubernetes: FakeKubernetes,
    python_image: str,
    referee_image: str,
    registry: Registry,
    alice: Account,
    bob: Account,
) -> None:
    on_the_cluster = kube_settings(
        settings,
        kaniko_kubernetes,
        k8s_registry=registry.address,
        docker_base_image=python_image,
        # No Docker engine of the platform's own: what runs, runs in the cluster's pods.
        docker_host="unix:///nonexistent/docker.sock",
        match_runner="kubernetes",
        k8s_referee_image=referee_image,
        builds_enabled=True,
        matches_enabled=True,
        ladder_enabled=True,
        ladder_interval=0.2,
    )
    prepare_cluster(kaniko_kubernetes, on_the_cluster)
    api = config.new_client_from_config(str(kaniko_kubernetes.kubeconfig))
    client.CoreV1Api(api).create_namespace({"metadata": {"name": MATCHES}})
    batch = client.BatchV1Api(api)
    since = batch.list_namespaced_job(MATCHES).metadata.resource_version

    with TestClient(create_app(on_the_cluster)) as app:
        submissions = []
        for account in (alice, bob):
            agent = create_agent(app, account, f"{account.username}-on-k8s")
            sub = submit_archive(app, account, agent, zip_files({"main.py": RANDOM_AGENT}))
            submissions.append((account, sub))
        for account, sub in submissions:
            status = wait_for_build(app, sub, seconds=180)
            assert status["status"] == "success", status
            assert status["buildJobName"] == f"build-{sub}"
            assert status["dockerImageUrl"].startswith(f"{registry.address}/")
            assert "@sha256:" in status["dockerImageUrl"]
            log = app.get(f"/api/v1/submissions/{sub}/build-logs", headers=account.headers)
            assert "Taking snapshot of full filesystem" in log.json()["buildLog"]  # Kaniko's
            activated = app.post(f"/api/v1/submissions/{sub}/activate", headers=account.headers)
            assert activated.status_code == 200, activated.text
        rows: list[dict[str, object]] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            rows = app.get("/api/v1/leaderboard", params={"game": "connectx"}).json()["items"]
            if len(rows) == 2 and all(int(str(r["games"])) >= 2 for r in rows):
                break
            time.sleep(0.5)
        ranked = app.get("/api/v1/matches", params={"limit": 50}).json()["items"]
    assert len(rows) == 2 and all(int(str(r["games"])) >= 2 for r in rows), rows
    assert [r["rank"] for r in rows] == [1, 2]
    finished = [m for m in ranked if m["status"] == "finished"]
    assert finished and all(m["ranked"] for m in finished), ranked

    # Every match, the two validation matches included, was a Job of its own, deleted after.
    added = {
        event["object"].metadata.name
        for event in watch.Watch().stream(
            batch.list_namespaced_job, MATCHES, resource_version=since, timeout_seconds=1
        )
        if event["type"] == "ADDED"
    }
    assert len(added) >= 2 + len(finished), (added, finished)
    api.close()
