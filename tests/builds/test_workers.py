"""The build service: workers in the server, the monitor, restarts, rebuilds and priorities."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import docker
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from botarena.accounts.service import AccountService
from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.app import create_app
from botarena.builds.backends.base import Artifact
from botarena.builds.backends.local import LocalBackend
from botarena.builds.queue import BuildQueue
from botarena.builds.workers import BuildWorkers, process_prefix
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory, session_scope
from botarena.settings import Settings
from botarena.storage import build_log_path

from support.accounts import Account
from support.api import create_agent, submit_url
from support.build_status import wait_for_build
from support.services import require_sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, path.name)
    return buffer.getvalue()


def _set(factory: SessionFactory, sub_id: str, **values: object) -> None:
    with factory() as session:
        row = session.get(Submission, sub_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)
        session.commit()


def _walk(factory: SessionFactory, sub_id: str, *statuses: str) -> None:
    with factory() as session:
        row = session.get(Submission, sub_id)
        assert row is not None
        for status in statuses:
            row.move_to(SubmissionStatus(status))
            session.flush()
        session.commit()


def _service(factory: SessionFactory, settings: Settings) -> BuildWorkers:
    return BuildWorkers(factory, settings, LocalBackend(settings.data_dir))


# -- rebuild and priority ------------------------------------------------------------------
def test_rebuild_queues_a_failed_build_again(
    client: TestClient, alice: Account, bob: Account, session_factory: SessionFactory
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    _walk(session_factory, sub, "building", "build_failed")
    _set(session_factory, sub, attempts=3, error_message="dependencies_failed: no such package")
    assert client.post(f"/api/v1/submissions/{sub}/rebuild", headers=bob.headers).status_code == 403
    answer = client.post(f"/api/v1/submissions/{sub}/rebuild", headers=alice.headers)
    assert answer.status_code == 200 and answer.json()["status"] == "building"
    status = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    assert status["queuePosition"] == 0 and status["errorMessage"] is None
    with session_factory() as session:
        claimed = BuildQueue(session).claim_next("w", "local", 60)
        session.commit()
        assert claimed is not None and claimed.id == sub and claimed.attempts == 1
    history = client.get(f"/api/v1/submissions/{sub}/build-status").json()["statusHistory"]
    assert [h["status"] for h in history] == ["pending", "building", "build_failed", "building"]
    again = client.post(f"/api/v1/submissions/{sub}/rebuild", headers=alice.headers)
    assert again.status_code == 409
    assert again.json()["error"] == "Submission cannot go from building to building"


def test_priority_is_for_admins_and_reorders_the_queue(
    client: TestClient, alice: Account, admin: Account, session_factory: SessionFactory
) -> None:
    agent = create_agent(client, alice, "bot")
    first, second = submit_url(client, alice, agent), submit_url(client, alice, agent)
    url = f"/api/v1/submissions/{second}/priority"
    assert client.post(url, json={"priority": 5}, headers=alice.headers).status_code == 403
    assert client.post(url, json={"priority": 5000}, headers=admin.headers).status_code == 422
    assert client.post(url, json={"priority": 5}, headers=admin.headers).status_code == 200
    assert client.get(f"/api/v1/submissions/{second}/build-status").json()["queuePosition"] == 0
    assert client.get(f"/api/v1/submissions/{first}/build-status").json()["queuePosition"] == 1


# -- the monitor ---------------------------------------------------------------------------
def test_an_expired_lease_goes_back_to_the_queue(
    client: TestClient, alice: Account, session_factory: SessionFactory, settings: Settings
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    with session_factory() as session:
        BuildQueue(session).claim_next("gone-worker", "local", 60)
        session.commit()
    _set(session_factory, sub, lease_until=utcnow() - timedelta(seconds=1))
    _service(session_factory, settings).reconcile()
    status = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    assert status["status"] == "pending" and status["queuePosition"] == 0
    # The third interruption in a row ends the build.
    _walk(session_factory, sub, "building")
    _set(session_factory, sub, attempts=3, lease_owner="gone", lease_until=utcnow())
    _service(session_factory, settings).reconcile()
    status = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    assert status["status"] == "build_failed"
    assert status["errorMessage"].startswith("internal: the build was interrupted 3 times")


def test_a_build_without_progress_times_out(
    client: TestClient, alice: Account, session_factory: SessionFactory, settings: Settings
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    with session_factory() as session:
        BuildQueue(session).claim_next("busy-worker", "local", 600)
        session.commit()
    _set(session_factory, sub, heartbeat_at=utcnow() - timedelta(hours=1))
    quick = settings.model_copy(update={"build_timeout": 60.0})
    _service(session_factory, quick).reconcile()
    status = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    assert status["status"] == "build_failed"
    assert status["errorMessage"] == "timeout: the build made no progress for 60 s"


def test_a_restart_hands_back_what_the_old_process_was_building(
    client: TestClient, alice: Account, session_factory: SessionFactory, settings: Settings
) -> None:
    agent = create_agent(client, alice, "bot")
    orphan, elsewhere = submit_url(client, alice, agent), submit_url(client, alice, agent)
    host = process_prefix().split(":")[0]
    with session_factory() as session:
        BuildQueue(session).claim_next(f"{host}:999999:ab:0", "local", 600)
        BuildQueue(session).claim_next("another-machine:1:cd:0", "local", 600)
        session.commit()
    assert _service(session_factory, settings).recover() == 1
    assert client.get(f"/api/v1/submissions/{orphan}").json()["status"] == "pending"
    assert client.get(f"/api/v1/submissions/{elsewhere}").json()["status"] == "building"


# -- the server builds for real -------------------------------------------------------------
def _user(client: TestClient, name: str) -> Account:
    with session_scope(client.app.state.session_factory) as session:  # type: ignore[attr-defined]
        user, issued = AccountService(session).create_user(name, None)
    return Account(user.id, user.username, issued.secret)


@pytest.fixture
def building_app(settings: Settings, backend_settings: dict[str, str]) -> Iterator[TestClient]:
    """The real app building with each backend."""
    live = settings.model_copy(
        update={"builds_enabled": True, "build_check_interval": 0.5, **backend_settings}
    )
    with TestClient(create_app(live)) as client:
        yield client


@sqlite_only
def test_the_server_builds_an_upload(building_app: TestClient) -> None:
    account = _user(building_app, "carol")
    agent = create_agent(building_app, account, "bot")
    answer = building_app.post(
        f"/api/v1/agents/{agent}/submissions",
        files={"archive": ("bot.zip", _zip(EXAMPLES / "connectx-random"))},
        headers=account.headers,
    )
    sub = answer.json()["submission"]["id"]
    status = wait_for_build(building_app, sub)
    assert status["status"] == "success", status
    assert [h["status"] for h in status["statusHistory"]] == ["pending", "building", "success"]
    log = building_app.get(f"/api/v1/submissions/{sub}/build-logs", headers=account.headers)
    assert "build succeeded" in log.json()["buildLog"]
    activated = building_app.post(f"/api/v1/submissions/{sub}/activate", headers=account.headers)
    assert activated.json()["status"] == "active"


# -- events and live logs ------------------------------------------------------------------
def _finish_in_background(
    factory: SessionFactory, settings: Settings, sub: str, delay: float
) -> threading.Thread:
    """A stand-in worker: claims, writes log lines, then succeeds, while a client listens."""

    def work() -> None:
        with factory() as session:
            BuildQueue(session).claim_next("w", "local", 60)
            session.commit()
        path = build_log_path(settings, sub)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as log:
            for index in range(3):
                time.sleep(delay)
                log.write(f"line {index}\n")
                log.flush()
        _walk(factory, sub, "success")

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_events_as_server_sent_events(
    client: TestClient, alice: Account, session_factory: SessionFactory, settings: Settings
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    worker = _finish_in_background(session_factory, settings, sub, 0.2)
    events = []
    with client.stream(
        "GET",
        f"/api/v1/submissions/{sub}/events",
        headers={**alice.headers, "Accept": "text/event-stream"},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: ") :]))
    worker.join()
    statuses = [e["status"] for e in events if e["type"] == "status"]
    assert statuses == ["pending", "building", "success"]
    assert [e["line"] for e in events if e["type"] == "log"] == ["line 0", "line 1", "line 2"]
    assert all("at" in e for e in events)


def test_events_over_a_websocket_and_logs_stay_private(
    client: TestClient,
    alice: Account,
    bob: Account,
    session_factory: SessionFactory,
    settings: Settings,
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    worker = _finish_in_background(session_factory, settings, sub, 0.2)
    seen = []
    with client.websocket_connect(
        f"/api/v1/submissions/{sub}/events", headers=bob.headers
    ) as socket:
        while True:
            try:
                seen.append(socket.receive_json())
            except WebSocketDisconnect:
                break
    worker.join()
    assert [e["status"] for e in seen if e["type"] == "status"] == [
        "pending",
        "building",
        "success",
    ]
    assert not [e for e in seen if e["type"] == "log"], "bob may not read alice's build log"


def test_build_logs_are_readable_while_building(
    client: TestClient, alice: Account, session_factory: SessionFactory, settings: Settings
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    with session_factory() as session:
        BuildQueue(session).claim_next("w", "local", 60)
        session.commit()
    path = build_log_path(settings, sub)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Collecting numpy\n")
    answer = client.get(f"/api/v1/submissions/{sub}/build-logs", headers=alice.headers)
    assert answer.status_code == 200
    assert answer.json()["buildLog"] == "Collecting numpy\n"
    assert answer.json()["status"] == "building"


def test_events_of_a_missing_submission(client: TestClient) -> None:
    answer = client.get("/api/v1/submissions/sub-nope/events")
    assert answer.status_code == 404


class _Switchable(LocalBackend):
    """The local backend, with an off switch standing for an engine that went away."""

    down: str | None = "the build engine cannot be reached"

    def unavailable_reason(self) -> str | None:
        return self.down


@sqlite_only
def test_an_unavailable_builder_keeps_builds_waiting(
    client: TestClient, alice: Account, settings: Settings, session_factory: SessionFactory
) -> None:
    require_sandbox()
    agent = create_agent(client, alice, "patient")
    sub = client.post(
        f"/api/v1/agents/{agent}/submissions",
        files={"archive": ("bot.zip", _zip(EXAMPLES / "connectx-random"))},
        headers=alice.headers,
    ).json()["submission"]["id"]
    backend = _Switchable(settings.data_dir)
    quick = settings.model_copy(update={"build_check_interval": 0.2})
    service = BuildWorkers(session_factory, quick, backend)
    service.start()
    try:
        time.sleep(1.0)
        waiting = client.get(f"/api/v1/submissions/{sub}/build-status").json()
        assert waiting["status"] == "pending" and waiting["queuePosition"] == 0
        with session_factory() as session:
            row = session.get(Submission, sub)
            assert row is not None and row.attempts == 0  # waiting used no retry
        backend.down = None
        assert wait_for_build(client, sub)["status"] == "success"
    finally:
        service.stop()


@sqlite_only
def test_two_builds_of_one_agent_at_once(
    settings: Settings, backend_settings: dict[str, str]
) -> None:
    live = settings.model_copy(
        update={
            "builds_enabled": True,
            "build_check_interval": 0.5,
            "build_concurrency": 2,
            **backend_settings,
        }
    )
    with TestClient(create_app(live)) as client:
        account = _user(client, "twin")
        agent = create_agent(client, account, "twins")
        subs = []
        for source in ("connectx-random", "connectx-greedy"):
            answer = client.post(
                f"/api/v1/agents/{agent}/submissions",
                files={"archive": ("bot.zip", _zip(EXAMPLES / source))},
                headers=account.headers,
            )
            subs.append(answer.json()["submission"])
        assert [s["version"] for s in subs] == [1, 2]
        finished = [wait_for_build(client, sub["id"], seconds=90) for sub in subs]
        assert [status["status"] for status in finished] == ["success", "success"]
        # Each has its own artifact, holding its own code.
        with session_scope(client.app.state.session_factory) as session:  # type: ignore[attr-defined]
            rows = [session.get(Submission, s["id"]) for s in subs]
            artifacts = [Artifact.from_json(r.artifact or "{}") for r in rows if r]
        texts = [_main_py(artifact, live) for artifact in artifacts]
        assert texts[0] == (EXAMPLES / "connectx-random" / "main.py").read_text()
        assert texts[1] == (EXAMPLES / "connectx-greedy" / "main.py").read_text()


def _main_py(artifact: Artifact, settings: Settings) -> str:
    """The main.py an artifact holds: in its folder, or read from inside its image."""
    if artifact.image is None:
        assert artifact.code_dir is not None
        return (Path(artifact.code_dir) / "main.py").read_text()
    client = docker.DockerClient(base_url=settings.docker_host)
    try:
        output: bytes = client.containers.run(
            artifact.image, ["cat", "/agent/main.py"], remove=True, network_mode="none"
        )
    finally:
        client.close()
    return output.decode()
