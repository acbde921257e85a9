"""A match through the whole path with ``BOTARENA_MATCH_RUNNER=kubernetes``: submissions
built by the docker backend, the API queues the match, the dispatcher hands it to the
server's executor, which plays it as a Job on the fake API server (its Docker kubelet running
the pod for real), and the result, replay and logs are recorded once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kubernetes import client, config, watch

from botarena.app import create_app
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.building import Built
from support.executors import authority
from support.kubefake import FakeKubernetes
from support.matches import RANDOM, wait_for_end
from support.rows import match_row

SLOW = (
    b"import random, time\n"
    b"def agent(obs, conf):\n"
    b"    time.sleep(0.1)\n"
    b"    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])\n"
)
PRINTING = RANDOM + b"\nimport sys\nprint('printed in its pod', file=sys.stderr)\n"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("backend_settings", ["docker"], indirect=True)
def test_a_match_played_as_a_kubernetes_job_is_recorded(
    built: Built,
    play_settings: Settings,
    docker_kubernetes: FakeKubernetes,
    referee_image: str,
    alice: Account,
    bob: Account,
) -> None:
    api = config.new_client_from_config(str(docker_kubernetes.kubeconfig))
    client.CoreV1Api(api).create_namespace({"metadata": {"name": "botarena-matches"}})
    alices, _ = built(alice, "alices-pod-bot", {"main.py": PRINTING})
    bobs, _ = built(bob, "bobs-pod-bot", {"main.py": RANDOM})
    settings = play_settings.model_copy(
        update={
            "match_runner": "kubernetes",
            "k8s_kubeconfig": docker_kubernetes.kubeconfig,
            "k8s_referee_image": referee_image,
        }
    )
    batch = client.BatchV1Api(api)
    since = batch.list_namespaced_job("botarena-matches").metadata.resource_version
    with TestClient(create_app(settings)) as playing:
        answer = playing.post(
            "/api/v1/matches",
            json={"agent1Id": alices, "agent2Id": bobs, "seed": 3},
            headers=bob.headers,
        )
        assert answer.status_code == 201, answer.text
        match = wait_for_end(playing, answer.json()["id"], seconds=120)
        assert match["status"] == "finished", match
        assert match["attempts"] == 1
        assert [a["outcome"] for a in match["agents"]] == ["DONE", "DONE"]
        replay = playing.get(f"/api/v1/matches/{match['id']}/replay")
        assert replay.status_code == 200 and replay.json()["steps"]
        log = playing.get(f"/api/v1/matches/{match['id']}/logs/0", headers=alice.headers)
        assert "printed in its pod" in log.text
    # It was played as one Job, deleted once its result was read.
    happened = [
        (event["type"], event["object"].metadata.labels["botarena.io/match"])
        for event in watch.Watch().stream(
            batch.list_namespaced_job,
            "botarena-matches",
            resource_version=since,
            timeout_seconds=1,
        )
    ]
    assert happened[0] == ("ADDED", match["id"]) and happened[-1] == ("DELETED", match["id"])
    assert batch.list_namespaced_job("botarena-matches").items == []
    api.close()


class KubernetesExecutor:
    """``botarena executor`` with BOTARENA_MATCH_RUNNER=kubernetes, as a process of its own
    sharing the server's data folder (its authority)."""

    def __init__(self, data_dir: Path, kubeconfig: Path, referee_image: str) -> None:
        authority(data_dir)
        environment = {
            **os.environ,
            "BOTARENA_DATA_DIR": str(data_dir),
            "BOTARENA_MATCH_RUNNER": "kubernetes",
            "BOTARENA_K8S_KUBECONFIG": str(kubeconfig),
            "BOTARENA_K8S_REFEREE_IMAGE": referee_image,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "botarena", "executor", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment,
            text=True,
        )
        assert self.process.stdout is not None
        self.address = "127.0.0.1:" + self.process.stdout.readline().strip().rsplit(":", 1)[1]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("backend_settings", ["docker"], indirect=True)
def test_an_executor_killed_mid_match_the_match_is_handed_back_and_finished_once(
    built: Built,
    play_settings: Settings,
    session_factory: SessionFactory,
    docker_kubernetes: FakeKubernetes,
    referee_image: str,
    alice: Account,
) -> None:
    api = config.new_client_from_config(str(docker_kubernetes.kubeconfig))
    core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
    core.create_namespace({"metadata": {"name": "botarena-matches"}})
    slow, _ = built(alice, "slow-pod-bot", {"main.py": SLOW})
    executors = [
        KubernetesExecutor(play_settings.data_dir, docker_kubernetes.kubeconfig, referee_image)
        for _ in range(2)
    ]
    settings = play_settings.model_copy(
        update={"executors": tuple(e.address for e in executors), "match_lease_seconds": 3.0}
    )
    try:
        with TestClient(create_app(settings)) as app:
            created = app.post(
                "/api/v1/matches", json={"agent1Id": slow, "agent2Id": slow}, headers=alice.headers
            ).json()
            first_job = None
            for _ in range(600):  # until its pod plays
                pods = core.list_namespaced_pod("botarena-matches").items
                if pods and pods[0].status.phase == "Running":
                    first_job = pods[0].metadata.labels["batch.kubernetes.io/job-name"]
                    break
                time.sleep(0.05)
            assert first_job is not None, "the match's pod never ran"
            running = match_row(session_factory, created["id"]).executor
            victim = next(e for e in executors if e.address == running)
            victim.kill()
            match = wait_for_end(app, created["id"], seconds=120)
    finally:
        for executor in executors:
            executor.kill()
    assert match["status"] == "finished", match
    assert match["attempts"] == 2
    history = [h["status"] for h in match["statusHistory"]]
    assert history == ["queued", "running", "queued", "running", "finished"]
    assert [a["outcome"] for a in match["agents"]] == ["DONE", "DONE"]
    # The dead executor's Job was deleted by the match's next play, which deleted its own.
    assert batch.list_namespaced_job("botarena-matches").items == []
    api.close()
