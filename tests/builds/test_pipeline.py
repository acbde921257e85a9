"""The build pipeline end to end: a claimed submission fetched, built, validated and recorded.

Builds that install requirements or run agents use the real sandbox and run on SQLite only;
the ones that stop before the backend does any work run on both databases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.agents.models import Submission
from botarena.builds.backends.base import Artifact, BuildTarget
from botarena.builds.backends.local import LocalBackend
from botarena.builds.failures import BackendUnavailable, BuildFailure, FailureReason
from botarena.builds.log import BuildLog
from botarena.builds.models import AttemptOutcome, BuildAttempt
from botarena.builds.pipeline import BuildPipeline
from botarena.builds.queue import BUILD_RETRY, BuildQueue
from botarena.builds.validation import read_validation
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.executor.sandbox import Limits
from botarena.executor.sandbox.limits import MIB
from botarena.settings import Settings
from botarena.storage import validation_match_path

from support.accounts import Account
from support.api import submit_archive as _upload
from support.api import zip_files as _zip
from support.gitserver import GitServer, make_repo
from support.rows import submission_row as _row
from support.services import require_sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"
WORKER = "worker-1"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
CRASHING = b'def agent(o, c):\n    raise RuntimeError("nope")\n'

# Heavy builds (an install, a validation match) are not repeated on PostgreSQL.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    root = tmp_path_factory.mktemp("repos")
    main = (EXAMPLES / "connectx-random" / "main.py").read_bytes()
    make_repo(root, "bot", {"main.py": main})
    with GitServer(root) as server:
        yield server


@pytest.fixture
def settings(settings: Settings, git_server: GitServer) -> Settings:
    """The shared settings, letting the API and the builder reach the loopback git server."""
    return settings.model_copy(
        update={"git_allow_http": True, "git_allow_hosts": (f"127.0.0.1:{git_server.port}",)}
    )


@pytest.fixture
def backend(settings: Settings) -> Iterator[LocalBackend]:
    built = LocalBackend(
        settings.data_dir, Limits(memory_bytes=256 * MIB, pids=64, tmp_bytes=16 * MIB)
    )
    yield built
    built.close()


@pytest.fixture
def sandbox() -> None:
    """The real sandbox: skipped where it is missing, a failure under CI."""
    require_sandbox()


@pytest.fixture
def direct(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loopback git server is reached directly, never through the machine's proxy."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def connectx_agent(client: TestClient, alice: Account) -> str:
    answer = client.post(
        "/api/v1/agents", json={"name": "alices-bot", "game": "connectx"}, headers=alice.headers
    )
    assert answer.status_code == 201, answer.text
    agent_id: str = answer.json()["id"]
    return agent_id


# -- helpers -------------------------------------------------------------------------------
def _zip_folder(folder: Path) -> bytes:
    return _zip(
        {
            str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
    )


def _submit_git(
    client: TestClient, alice: Account, agent_id: str, url: str, ref: str | None = None
) -> str:
    answer = client.post(
        "/api/v1/submissions",
        json={"agentId": agent_id, "codeUrl": url, "ref": ref},
        headers=alice.headers,
    )
    assert answer.status_code == 201, answer.text
    sub_id: str = answer.json()["submission"]["id"]
    return sub_id


def _claim(factory: SessionFactory, worker: str = WORKER, now: datetime | None = None) -> str:
    with factory() as session:
        claimed = BuildQueue(session).claim_next(worker, "local", 60, now=now)
        session.commit()
        assert claimed is not None
        return claimed.id


def _build(factory: SessionFactory, settings: Settings, backend: LocalBackend, sub_id: str) -> None:
    BuildPipeline(factory, settings, backend, worker=WORKER).run(sub_id)


def _attempts(factory: SessionFactory, sub_id: str) -> list[BuildAttempt]:
    with factory() as session:
        rows = list(
            session.scalars(
                select(BuildAttempt)
                .where(BuildAttempt.submission_id == sub_id)
                .order_by(BuildAttempt.id)
            )
        )
        session.expunge_all()
        return rows


def _status(client: TestClient, sub_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/submissions/{sub_id}/build-status")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _log(client: TestClient, alice: Account, sub_id: str) -> str:
    answer = client.get(f"/api/v1/submissions/{sub_id}/build-logs", headers=alice.headers)
    assert answer.status_code == 200, answer.text
    text: str = answer.json()["buildLog"]
    return text


def _steps(log: str) -> list[str]:
    """The platform's step lines, without their time stamps."""
    return [line.split(" ", 2)[2] for line in log.splitlines() if line.startswith("==> ")]


# -- builds that succeed -------------------------------------------------------------------
@sqlite_only
def test_uploaded_archive_builds_and_validates(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    sandbox: None,
) -> None:
    sub = _upload(client, alice, connectx_agent, _zip_folder(EXAMPLES / "connectx-random"))
    assert _claim(session_factory) == sub
    _build(session_factory, settings, backend, sub)

    status = _status(client, sub)
    assert status["status"] == "success", status
    assert status["errorMessage"] is None
    assert [h["status"] for h in status["statusHistory"]] == ["pending", "building", "success"]
    row = _row(session_factory, sub)
    assert row.artifact is not None
    artifact = json.loads(row.artifact)
    assert artifact["backend"] == "local"
    assert (Path(artifact["codeDir"]) / "main.py").is_file()
    assert Artifact.from_json(row.artifact).code_dir == artifact["codeDir"]
    assert row.lease_owner is None and row.lease_until is None and row.not_before is None
    steps = _steps(_log(client, alice, sub))
    assert steps[0] == "attempt 1 with the local backend"
    assert steps[1] == "unpacking the uploaded archive"
    assert "building" in steps
    assert any(step.startswith("validating") for step in steps)
    assert steps[-1] == "build succeeded"
    # The validation match is kept for the submission's page, and named in the log.
    kept = read_validation(validation_match_path(settings, sub))
    assert kept is not None and kept["status"] == "finished"
    assert [a["status"] for a in kept["agents"]] == ["DONE", "DONE"]
    assert len(kept["replay"]["steps"]) == kept["turns"] + 1
    assert f"validation match: {kept['turns']} turns in " in _log(client, alice, sub)
    [attempt] = _attempts(session_factory, sub)
    assert attempt.outcome == AttemptOutcome.SUCCESS.value
    assert attempt.number == 1 and attempt.worker == WORKER and attempt.backend == "local"
    assert attempt.finished_at is not None
    # The working folder is gone; the artifact stays.
    assert list((settings.data_dir / "work").iterdir()) == []


@sqlite_only
def test_git_submission_builds_and_records_its_commit(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    git_server: GitServer,
    sandbox: None,
    direct: None,
) -> None:
    sub = _submit_git(client, alice, connectx_agent, git_server.url_for("bot"), "main")
    _claim(session_factory)
    _build(session_factory, settings, backend, sub)

    assert _status(client, sub)["status"] == "success"
    detail = client.get(f"/api/v1/submissions/{sub}", headers=alice.headers).json()
    assert detail["commitSha"] is not None and len(detail["commitSha"]) == 40
    log = _log(client, alice, sub)
    assert f"commit {detail['commitSha']}" in log
    assert any(step.startswith(f"fetching {git_server.url_for('bot')}") for step in _steps(log))
    assert _steps(log)[-1] == "build succeeded"
    assert str(settings.data_dir.resolve()) not in log, "no server paths in a participant's log"


# -- the participant's failures: not retried -----------------------------------------------
@sqlite_only
def test_requirements_that_cannot_install_fail_the_build(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    sandbox: None,
) -> None:
    main = (EXAMPLES / "connectx-random" / "main.py").read_bytes()
    data = _zip({"main.py": main, "requirements.txt": b"botarena-no-such-package==0.0.1\n"})
    sub = _upload(client, alice, connectx_agent, data)
    _claim(session_factory)
    _build(session_factory, settings, backend, sub)

    status = _status(client, sub)
    assert status["status"] == "build_failed"
    assert status["errorMessage"].startswith("dependencies_failed: "), status
    row = _row(session_factory, sub)
    assert row.attempts == 1 and row.not_before is None and row.lease_owner is None
    [attempt] = _attempts(session_factory, sub)
    assert attempt.outcome == AttemptOutcome.USER_ERROR.value
    assert attempt.reason == "dependencies_failed"
    log = _log(client, alice, sub)
    assert "installing requirements" in _steps(log)
    assert _steps(log)[-1].startswith("build failed: dependencies_failed: ")


@sqlite_only
def test_agent_that_crashes_in_validation_fails_with_its_traceback(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    sandbox: None,
) -> None:
    sub = _upload(client, alice, connectx_agent, _zip({"main.py": CRASHING}))
    _claim(session_factory)
    _build(session_factory, settings, backend, sub)

    status = _status(client, sub)
    assert status["status"] == "build_failed"
    assert status["errorMessage"].startswith("validation_failed: "), status
    row = _row(session_factory, sub)
    assert row.attempts == 1 and row.not_before is None
    log = _log(client, alice, sub)
    assert "Traceback" in log and "RuntimeError: nope" in log
    kept = read_validation(validation_match_path(settings, sub))
    assert kept is not None and "RuntimeError: nope" in kept["logs"][0]
    assert kept["agents"][0]["status"] == "ERROR"
    [attempt] = _attempts(session_factory, sub)
    assert attempt.outcome == AttemptOutcome.USER_ERROR.value
    assert attempt.reason == "validation_failed"


def test_missing_ref_fails_the_fetch(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    git_server: GitServer,
    direct: None,
) -> None:
    sub = _submit_git(client, alice, connectx_agent, git_server.url_for("bot"), "no-such-branch")
    _claim(session_factory)
    _build(session_factory, settings, backend, sub)

    status = _status(client, sub)
    assert status["status"] == "build_failed"
    assert status["errorMessage"].startswith("fetch_failed: "), status
    row = _row(session_factory, sub)
    assert row.attempts == 1 and row.not_before is None and row.commit_sha is None
    assert "building" not in _steps(_log(client, alice, sub))


# -- the platform's failures: retried with backoff -----------------------------------------
def test_platform_fault_is_retried_then_fails(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(target: BuildTarget, source: Path, log: BuildLog) -> Artifact:
        raise OSError("disk gone")

    monkeypatch.setattr(backend, "build", broken)
    sub = _upload(client, alice, connectx_agent, _zip({"main.py": CRASHING}))
    _claim(session_factory)
    started = utcnow()
    _build(session_factory, settings, backend, sub)

    status = _status(client, sub)
    assert status["status"] == "pending"
    assert status["errorMessage"] is None
    row = _row(session_factory, sub)
    assert row.attempts == 1 and row.lease_owner is None
    # At least half the first wait after the build failed (the other half is jitter); read
    # against the clock before the build, not now: a busy machine may be slow to ask.
    least = timedelta(seconds=BUILD_RETRY.base_seconds / 2)
    assert row.not_before is not None and row.not_before >= started + least
    with session_factory() as session:
        early = row.not_before - timedelta(seconds=0.5)
        assert BuildQueue(session).claim_next(WORKER, "local", 60, now=early) is None  # backing off

    for number in (2, 3):
        not_before = _row(session_factory, sub).not_before
        assert not_before is not None
        _claim(session_factory, now=not_before + timedelta(seconds=1))
        _build(session_factory, settings, backend, sub)
        assert _row(session_factory, sub).attempts == number

    status = _status(client, sub)
    assert status["status"] == "build_failed"
    assert status["errorMessage"].startswith("internal: "), status
    assert "disk gone" in status["errorMessage"]
    assert [h["status"] for h in status["statusHistory"]] == [
        "pending",
        *["building", "pending"] * 2,
        "building",
        "build_failed",
    ]
    row = _row(session_factory, sub)
    assert row.not_before is None and row.lease_owner is None
    attempts = _attempts(session_factory, sub)
    assert [a.number for a in attempts] == [1, 2, 3]
    assert {a.outcome for a in attempts} == {AttemptOutcome.PLATFORM_ERROR.value}


def test_unavailable_backend_hands_the_build_back_without_using_an_attempt(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable(target: BuildTarget, source: Path, log: BuildLog) -> Artifact:
        raise BackendUnavailable("the engine is down")

    monkeypatch.setattr(backend, "build", unreachable)
    sub = _upload(client, alice, connectx_agent, _zip({"main.py": CRASHING}))
    _claim(session_factory)
    _build(session_factory, settings, backend, sub)

    status = _status(client, sub)
    assert status["status"] == "pending" and status["errorMessage"] is None
    row = _row(session_factory, sub)
    assert row.attempts == 0 and row.lease_owner is None
    [attempt] = _attempts(session_factory, sub)
    assert attempt.outcome == AttemptOutcome.INTERRUPTED.value
    assert "the engine is down" in _log(client, alice, sub)


@pytest.mark.parametrize("crash", [RuntimeError("connection refused"), None])
def test_a_backend_that_goes_away_during_a_build_costs_no_attempt(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    monkeypatch: pytest.MonkeyPatch,
    crash: Exception | None,
) -> None:
    """The engine stopped mid-build (killed, restarted): the build failed through no fault of
    its own and the backend now says it is unavailable, so the build waits for it uncounted;
    the same failure with the backend still there is an attempt (the next test's case)."""

    def engine_dies(target: BuildTarget, source: Path, log: BuildLog) -> Artifact:
        monkeypatch.setattr(backend, "unavailable_reason", lambda: "the engine does not answer")
        if crash is not None:
            raise crash
        raise BuildFailure(
            FailureReason.INTERNAL, "the builder lost its engine", platform_fault=True
        )

    monkeypatch.setattr(backend, "build", engine_dies)
    sub = _upload(client, alice, connectx_agent, _zip({"main.py": CRASHING}))
    _claim(session_factory)
    _build(session_factory, settings, backend, sub)

    assert _status(client, sub)["status"] == "pending"
    row = _row(session_factory, sub)
    assert row.attempts == 0 and row.lease_owner is None
    [attempt] = _attempts(session_factory, sub)
    assert attempt.outcome == AttemptOutcome.INTERRUPTED.value
    assert "went away during the build" in _log(client, alice, sub)


def test_a_validation_match_cut_short_by_the_backend_going_away_is_not_the_agents_failure(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine stopped while the validation match played (its agents' containers died with
    it): the build waits for the engine, uncounted, instead of failing the participant."""
    sub = _upload(client, alice, connectx_agent, _zip({"main.py": CRASHING}))
    _claim(session_factory)
    monkeypatch.setattr(backend, "unavailable_reason", lambda: "the engine does not answer")
    _build(session_factory, settings, backend, sub)

    assert _status(client, sub)["status"] == "pending"
    assert _row(session_factory, sub).attempts == 0
    assert "the validation match was cut short" in _log(client, alice, sub)


def test_a_platform_fault_with_the_backend_still_there_is_an_attempt(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def breaks(target: BuildTarget, source: Path, log: BuildLog) -> Artifact:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(backend, "build", breaks)
    sub = _upload(client, alice, connectx_agent, _zip({"main.py": CRASHING}))
    _claim(session_factory)
    _build(session_factory, settings, backend, sub)

    assert _row(session_factory, sub).attempts == 1
    [attempt] = _attempts(session_factory, sub)
    assert attempt.outcome == AttemptOutcome.PLATFORM_ERROR.value


# -- leases --------------------------------------------------------------------------------
def test_worker_without_the_lease_writes_nothing(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
) -> None:
    sub = _upload(client, alice, connectx_agent, _zip({"main.py": CRASHING}))
    _claim(session_factory, worker="someone-else")
    _build(session_factory, settings, backend, sub)

    assert _status(client, sub)["status"] == "building"
    row = _row(session_factory, sub)
    assert row.lease_owner == "someone-else" and row.build_log is None
    assert _attempts(session_factory, sub) == []


def test_worker_that_loses_its_lease_mid_build_writes_nothing(
    client: TestClient,
    alice: Account,
    connectx_agent: str,
    settings: Settings,
    session_factory: SessionFactory,
    backend: LocalBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sub = _upload(client, alice, connectx_agent, _zip({"main.py": CRASHING}))

    def handed_over(target: BuildTarget, source: Path, log: BuildLog) -> Artifact:
        # The monitor gave the build to another worker while this one was building.
        with session_factory() as session:
            row = session.get(Submission, target.submission_id)
            assert row is not None
            row.lease_owner = "worker-2"
            session.commit()
        raise BuildFailure(FailureReason.DEPENDENCIES_FAILED, "whatever")

    monkeypatch.setattr(backend, "build", handed_over)
    _claim(session_factory)
    _build(session_factory, settings, backend, sub)

    status = _status(client, sub)
    assert status["status"] == "building" and status["errorMessage"] is None
    assert [h["status"] for h in status["statusHistory"]] == ["pending", "building"]
    row = _row(session_factory, sub)
    assert row.lease_owner == "worker-2" and row.build_log is None and row.attempts == 1
