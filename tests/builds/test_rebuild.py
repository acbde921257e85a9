"""Rebuilding a submission that has played, on a server that stays up: every build attempt
makes an artifact of its own, so warm fork servers and matches never see one replaced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.app import create_app
from botarena.builds.backends.base import Artifact
from botarena.db.engine import SessionFactory, session_scope
from botarena.settings import Settings
from botarena.storage import earlier_build_log_path

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.build_status import wait_for_build
from support.matches import RANDOM, wait_for_end

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def serving(
    settings: Settings, backend_settings: dict[str, str], make_user: object
) -> Iterator[TestClient]:
    """One server that builds and plays, with its build workers and embedded executor."""
    live = settings.model_copy(
        update={
            "builds_enabled": True,
            "build_check_interval": 0.5,
            "matches_enabled": True,
            "match_lease_seconds": 4.0,
            "executor_capacity": 1,
            **backend_settings,
        }
    )
    with TestClient(create_app(live)) as client:
        yield client


def _play(client: TestClient, account: Account, first: str, second: str) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/matches", json={"agent1Id": first, "agent2Id": second}, headers=account.headers
    )
    assert answer.status_code == 201, answer.text
    match = wait_for_end(client, answer.json()["id"], seconds=90)
    assert match["status"] == "finished", match
    assert [a["outcome"] for a in match["agents"]] == ["DONE", "DONE"], match
    return match


def _artifact(client: TestClient, sub: str) -> Artifact:
    factory: SessionFactory = client.app.state.session_factory  # type: ignore[attr-defined]
    with session_scope(factory) as session:
        row = session.get(Submission, sub)
        assert row is not None and row.artifact is not None
        return Artifact.from_json(row.artifact)


@sqlite_only
def test_a_played_submission_rebuilds_and_plays_again(
    serving: TestClient, alice: Account, bob: Account
) -> None:
    alices = create_agent(serving, alice, "rebuilt")
    bobs = create_agent(serving, bob, "opponent")
    sub = submit_archive(serving, alice, alices, zip_files({"main.py": RANDOM}))
    other = submit_archive(serving, bob, bobs, zip_files({"main.py": RANDOM}))
    for owner, built in ((alice, sub), (bob, other)):
        assert wait_for_build(serving, built, seconds=120)["status"] == "success"
        answer = serving.post(f"/api/v1/submissions/{built}/activate", headers=owner.headers)
        assert answer.status_code == 200, answer.text
    first = _artifact(serving, sub)
    first_log = _log(serving, alice, sub)
    # Warm: each agent's fork server (local) or image (docker) has played.
    _play(serving, alice, alices, bobs)
    _play(serving, bob, bobs, alices)

    assert serving.post(f"/api/v1/submissions/{sub}/deactivate", headers=alice.headers).is_success
    answer = serving.post(f"/api/v1/submissions/{sub}/rebuild", headers=alice.headers)
    assert answer.status_code == 200, answer.text
    status = wait_for_build(serving, sub, seconds=120)
    assert status["status"] == "success", status
    assert serving.post(f"/api/v1/submissions/{sub}/activate", headers=alice.headers).is_success

    # The rebuild's log is a fresh one, numbered from attempt 1; the first build's is kept.
    log = _log(serving, alice, sub)
    assert "build 2 (a rebuild; the log of build 1 is kept)" in log.splitlines()[0]
    assert log.count("attempt 1 with") == 1 and log.count("build succeeded") == 1
    assert first_log not in log
    settings: Settings = serving.app.state.settings  # type: ignore[attr-defined]
    assert earlier_build_log_path(settings, sub, 1).read_text() == first_log

    second = _artifact(serving, sub)
    assert (second.code_dir, second.image) != (first.code_dir, first.image)
    assert second.build_id and first.build_id and second.build_id > first.build_id
    _play(serving, alice, alices, bobs)
    _play(serving, bob, bobs, alices)
    # Nothing plays the first artifact any more: it is gone, the second one stays.
    assert not _exists(serving, first) and _exists(serving, second)


def _log(client: TestClient, account: Account, sub: str) -> str:
    answer = client.get(f"/api/v1/submissions/{sub}/build-logs", headers=account.headers)
    assert answer.status_code == 200, answer.text
    text: str = answer.json()["buildLog"]
    return text


def _exists(client: TestClient, artifact: Artifact) -> bool:
    if artifact.code_dir is not None:
        return Path(artifact.code_dir).is_dir()
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    engine = docker.DockerClient(base_url=settings.docker_host)
    try:
        engine.images.get(artifact.image or "")
    except docker.errors.ImageNotFound:
        return False
    finally:
        engine.close()
    return True
