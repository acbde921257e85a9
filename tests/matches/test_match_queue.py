"""The dispatcher's one-statement claim takes the same match, with the same attempt, lease
and history, as the queue's general claim."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.agents.models import Submission
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.matches.models import Match, MatchStatusEvent
from botarena.matches.queue import MatchQueue
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_url

ARTIFACT = '{"backend": "local", "codeDir": "/nowhere", "envDir": null, "command": null}'


def _matches(
    client: TestClient, factory: SessionFactory, account: Account, count: int
) -> list[str]:
    agent = create_agent(client, account, "player")
    submission = submit_url(client, account, agent)
    with factory() as session:
        row = session.get(Submission, submission)
        assert row is not None
        row.status, row.artifact = "active", ARTIFACT
        session.commit()
    body = {"agent1Id": agent, "agent2Id": agent}
    return [
        client.post("/api/v1/matches", json=body, headers=account.headers).json()["id"]
        for _ in range(count)
    ]


def _job(factory: SessionFactory, match_id: str) -> tuple[object, ...]:
    with factory() as session:
        match = session.get(Match, match_id)
        assert match is not None
        history = session.scalars(
            select(MatchStatusEvent.reason)
            .where(MatchStatusEvent.match_id == match_id)
            .order_by(MatchStatusEvent.id)
        ).all()
        assert match.lease_until is not None
        lease = round((match.lease_until - match.updated_at).total_seconds())
        return (
            match.status,
            match.attempts,
            match.lease_owner,
            match.executor,
            match.not_before,
            lease,
            history[1:],
            match.row_version,
        )


def test_the_one_statement_claim_writes_what_the_general_claim_writes(
    client: TestClient, session_factory: SessionFactory, settings: Settings, alice: Account
) -> None:
    first, second, third = _matches(client, session_factory, alice, 3)
    with session_factory() as session:
        queue = MatchQueue(session, settings)
        general = queue.claim_next("slot-1", "127.0.0.1:1")
        one = queue.claim("slot-2", "127.0.0.1:1")
        session.commit()
    # In the queue's order: the oldest first.
    assert general is not None and general.id == first
    assert one is not None and one.id == second
    with session_factory() as session:
        row = session.get(Match, second)
        assert row is not None and row.request_id is not None
        assert (one.game, one.configuration, one.seed, one.request_id) == (
            row.game, row.configuration, row.seed, row.request_id,
        )  # fmt: skip
    lease = settings.match_lease_seconds
    both = ("running", 1, "127.0.0.1:1", None, lease, ["attempt 1 on 127.0.0.1:1"], 2)
    assert _job(session_factory, first) == (*both[:2], "slot-1", *both[2:])
    assert _job(session_factory, second) == (*both[:2], "slot-2", *both[2:])
    # A match handed back waits out its backoff, then its claim counts a second attempt.
    with session_factory() as session:
        queue = MatchQueue(session, settings)
        row = queue.held(second, "slot-2")
        assert row is not None
        queue.hand_back(row, "the executor died")
        session.commit()
    with session_factory() as session:
        claimed = MatchQueue(session, settings).claim("slot-3", "127.0.0.1:2")
        assert claimed is not None and claimed.id == third  # the other one waits
        assert MatchQueue(session, settings).claim("slot-3", "127.0.0.1:2") is None
        waiting = session.get(Match, second)
        assert waiting is not None and waiting.not_before is not None
        waiting.not_before = utcnow() - timedelta(seconds=1)
        session.commit()
    with session_factory() as session:
        again = MatchQueue(session, settings).claim("slot-3", "127.0.0.1:2")
        session.commit()
    assert again is not None and again.id == second
    status, attempts, owner, *_, history, _version = _job(session_factory, second)
    assert (status, attempts, owner) == ("running", 2, "slot-3")
    assert history[-1] == "attempt 2 on 127.0.0.1:2"
