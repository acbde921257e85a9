"""A match through the whole path with ``BOTARENA_MATCH_RUNNER=kubernetes``: submissions
built by the docker backend, the API queues the match, the dispatcher hands it to the
server's executor, which plays it as a Job on the fake API server (its Docker kubelet running
the pod for real), and the result, replay and logs are recorded once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from kubernetes import client, config, watch

from botarena.app import create_app
from botarena.settings import Settings

from support.accounts import Account
from support.building import Built
from support.kubefake import FakeKubernetes
from support.matches import RANDOM, wait_for_end

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
