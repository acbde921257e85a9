"""A court for rating tests: agents made ready and matches recorded the way the dispatcher
records them (through the match queue and the recorder with the ratings hook)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.matches.queue import MatchQueue
from botarena.matches.recording import MatchRecorder
from botarena.ratings.hook import RatingsHook
from botarena.ratings.models import Rating, RatingChange
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_url

ARTIFACT = '{"backend": "local", "codeDir": "/nowhere", "envDir": null, "command": null}'

# Without the competition: a migration test that goes below competitions and back gets new
# default competitions (new ids) for the same history.
CHANGE_COLUMNS = [
    column.key for column in RatingChange.__table__.columns if column.key != "competition_id"
]


@dataclass
class Court:
    """Agents made ready and matches recorded as the dispatcher records them."""

    client: TestClient
    factory: SessionFactory
    settings: Settings
    admin: Account

    def ready(self, account: Account, name: str) -> tuple[str, str]:
        """A new agent whose newest submission is active (as if built), and that submission."""
        agent = create_agent(self.client, account, name)
        return agent, self.new_version(account, agent)

    def new_version(self, account: Account, agent: str) -> str:
        """A new submission of ``agent``, made its active one (the previous one inactive)."""
        sub = submit_url(self.client, account, agent)
        with self.factory() as session:
            for row in session.scalars(select(Submission).where(Submission.agent_id == agent)):
                if row.status == "active":
                    row.status = "inactive"
            session.flush()  # one active submission per agent, which the database checks
            row = session.get(Submission, sub)
            assert row is not None
            row.status, row.artifact = "active", ARTIFACT
            session.commit()
        return sub

    def play(
        self,
        pair: tuple[str, str],
        winner: int | None,
        *,
        ranked: bool = True,
        fails: bool = False,
        at: datetime | None = None,
    ) -> str:
        """A match created through the API (by an admin), then claimed and recorded; ``at``
        is the clock the recording reads (when the match finished), else the real one."""
        body = {"agent1Id": pair[0], "agent2Id": pair[1], "ranked": ranked}
        created = self.client.post("/api/v1/matches", json=body, headers=self.admin.headers)
        assert created.status_code == 201, created.text
        match_id: str = created.json()["id"]
        with self.factory() as session:
            queue = MatchQueue(session, self.settings)
            match = queue.claim_next("slot", "127.0.0.1:1")
            assert match is not None
            assert match.id == match_id
            if fails:
                queue.fail(match, "the platform could not play it")
            else:
                scores = [0.5, 0.5] if winner is None else [float(p == winner) for p in range(2)]
                outcomes = [AgentOutcome(), AgentOutcome()]
                result = MatchResult(MatchStatus.FINISHED, winner, scores, outcomes, 9, 50)
                recorder = MatchRecorder(session, self.settings, RatingsHook())
                if at is None:
                    recorder.record(match, result)
                else:
                    with mock.patch("botarena.matches.recording.utcnow", return_value=at):
                        recorder.record(match, result)
            session.commit()
        return match_id

    def history(self) -> list[tuple[object, ...]]:
        """Every stored rating change, in a stable order."""
        order = (RatingChange.at, RatingChange.match_id, RatingChange.player)
        with self.factory() as session:
            changes = session.scalars(select(RatingChange).order_by(*order))
            return [tuple(getattr(c, column) for column in CHANGE_COLUMNS) for c in changes]

    def ratings(self) -> dict[str, tuple[float, float, int, int, int, int]]:
        with self.factory() as session:
            return {
                r.submission_id: (r.mu, r.sigma, r.games, r.wins, r.losses, r.draws)
                for r in session.scalars(select(Rating))
            }


@pytest.fixture
def court(
    client: TestClient, session_factory: SessionFactory, settings: Settings, admin: Account
) -> Court:
    return Court(client, session_factory, settings, admin)
