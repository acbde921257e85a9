"""A rebuild's fresh log: begun with the request, in its transaction, undone with a failed one.

Through the real app, on both databases: ``build-logs`` shows the new build's log as soon as
the rebuild is accepted (the earlier kept as ``build.N.log``), and a rebuild that is refused or
whose commit fails leaves the logs and the marker as they were.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from botarena.agents.models import Submission, SubmissionStatusEvent
from botarena.agents.status import SubmissionStatus
from botarena.builds import generations
from botarena.builds.log import BuildLog
from botarena.db.engine import SessionFactory
from botarena.settings import Settings
from botarena.storage import build_log_path, earlier_build_log_path, read_tail

from support.accounts import Account
from support.api import create_agent, submit_url


def _build(factory: SessionFactory, settings: Settings, sub: str, *lines: str) -> str:
    """A build by hand: building, its log written, success (its log stored, as a worker's)."""
    _walk(factory, sub, "building")
    log = BuildLog(build_log_path(settings, sub))
    for line in lines:
        log.write(line)
    log.close()
    with factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.move_to(SubmissionStatus.SUCCESS)
        row.build_log = read_tail(build_log_path(settings, sub))
        session.commit()
    return build_log_path(settings, sub).read_text()


def _walk(factory: SessionFactory, sub: str, *statuses: str) -> None:
    with factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        for status in statuses:
            row.move_to(SubmissionStatus(status))
            session.flush()
        session.commit()


def _last_status_id(factory: SessionFactory, sub: str) -> int:
    with factory() as session:
        found = session.scalar(
            select(func.max(SubmissionStatusEvent.id)).where(
                SubmissionStatusEvent.submission_id == sub
            )
        )
        return int(found or 0)


def _status(factory: SessionFactory, sub: str) -> str:
    with factory() as session:
        found = session.scalar(select(Submission.status).where(Submission.id == sub))
        assert found is not None
        return found


def _folder(settings: Settings, sub: str) -> dict[str, str]:
    """Every file of the submission's build-log folder, by name."""
    folder = build_log_path(settings, sub).parent
    return {path.name: path.read_text() for path in sorted(folder.iterdir()) if path.is_file()}


def _logs(client: TestClient, account: Account, sub: str) -> str:
    answer = client.get(f"/api/v1/submissions/{sub}/build-logs", headers=account.headers)
    assert answer.status_code == 200, answer.text
    text: str = answer.json()["buildLog"]
    return text


def test_a_rebuild_shows_its_fresh_log_at_once_and_keeps_the_earlier(
    client: TestClient, alice: Account, session_factory: SessionFactory, settings: Settings
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    first = _build(session_factory, settings, sub, "first build: step 1", "first build: done")
    assert _logs(client, alice, sub) == first

    answer = client.post(f"/api/v1/submissions/{sub}/rebuild", headers=alice.headers)
    assert answer.status_code == 200 and answer.json()["status"] == "building"
    # No worker has taken it: the log is the new build's already, the first one kept.
    fresh = _logs(client, alice, sub)
    assert fresh.endswith("build 2 (a rebuild; the log of build 1 is kept)\n")
    assert len(fresh.splitlines()) == 1 and "first build" not in fresh
    assert earlier_build_log_path(settings, sub, 1).read_text() == first
    began = _last_status_id(session_factory, sub)
    assert generations.current(settings, sub) == generations.Generation(2, began)

    # A rebuild refused (it is building already) changes no file.
    before = _folder(settings, sub)
    again = client.post(f"/api/v1/submissions/{sub}/rebuild", headers=alice.headers)
    assert again.status_code == 409
    assert _folder(settings, sub) == before

    # Its attempts append to the fresh log; the next rebuild keeps it as build.2.log.
    log = BuildLog(build_log_path(settings, sub))
    log.write("second build: done")
    log.close()
    _walk(session_factory, sub, "success")
    second = build_log_path(settings, sub).read_text()
    assert client.post(f"/api/v1/submissions/{sub}/rebuild", headers=alice.headers).is_success
    assert _logs(client, alice, sub).endswith("build 3 (a rebuild; the log of build 2 is kept)\n")
    assert earlier_build_log_path(settings, sub, 2).read_text() == second
    assert earlier_build_log_path(settings, sub, 1).read_text() == first
    assert generations.current(settings, sub).number == 3


class FailingCommit:
    """Once armed, the next commit of a session holding a building submission fails."""

    def __init__(self) -> None:
        self.armed = False
        self.failed: list[str] = []

    def __call__(self, session: Session) -> None:
        for row in list(session.identity_map.values()):
            if self.armed and isinstance(row, Submission) and row.status == "building":
                self.armed = False
                self.failed.append(row.id)
                raise RuntimeError("the database went away during the commit")


@pytest.fixture
def failing_commit(session_factory: SessionFactory) -> Iterator[FailingCommit]:
    fault = FailingCommit()
    event.listen(session_factory, "before_commit", fault)
    yield fault
    event.remove(session_factory, "before_commit", fault)


def test_a_rebuild_whose_commit_fails_leaves_the_logs_as_they_were(
    client: TestClient,
    alice: Account,
    session_factory: SessionFactory,
    settings: Settings,
    failing_commit: FailingCommit,
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "bot"))
    _build(session_factory, settings, sub, "first build: done")
    # A second generation already, so that the marker has a number to be put back to.
    assert client.post(f"/api/v1/submissions/{sub}/rebuild", headers=alice.headers).is_success
    log = BuildLog(build_log_path(settings, sub))
    log.write("second build: done")
    log.close()
    _walk(session_factory, sub, "success")
    before = _folder(settings, sub)
    assert set(before) == {"build.log", "build.1.log", "generation"}

    failing_commit.armed = True
    # The app as started by ``client``, answering a server error instead of raising it.
    failing = TestClient(client.app, raise_server_exceptions=False)
    answer = failing.post(f"/api/v1/submissions/{sub}/rebuild", headers=alice.headers)
    assert answer.status_code == 500
    assert failing_commit.failed == [sub]
    assert _status(session_factory, sub) == "success"
    assert _folder(settings, sub) == before
    # Nothing was left half done: the next rebuild numbers on from the same place.
    assert client.post(f"/api/v1/submissions/{sub}/rebuild", headers=alice.headers).is_success
    assert earlier_build_log_path(settings, sub, 2).read_text() == before["build.log"]
    assert generations.current(settings, sub).number == 3
