"""The demo's counting on the real database, with the ladder's real scheduler: an example
activated after the others had played is owed its placement games first, and the demo counts
only matches made once every example was active (before, connectx-search, built last, could
end a demo with no game at all)."""

from __future__ import annotations

import random
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.accounts.repository import UserRepository
from botarena.agents.models import Submission
from botarena.clock import utcnow
from botarena.db.engine import SessionFactory
from botarena.demo import DEMO_AGENTS, DEMO_GAME, demo_examples, demo_token, ladder_matches_since
from botarena.ladder.scheduler import LadderScheduler
from botarena.matches.models import Match
from botarena.ratings.book import DEFAULT_MU, DEFAULT_SIGMA
from botarena.ratings.models import Rating
from botarena.settings import Settings

from support.accounts import Account
from support.competitors import pretend_built

*EARLY, LATE = DEMO_AGENTS  # connectx-search, the strongest, last


def _demo_account(factory: SessionFactory) -> Account:
    token = demo_token(factory)
    with factory() as session:
        user = UserRepository(session).by_username("demo")
        assert user is not None
        return Account(user.id, user.username, token)


def _finish_all(factory: SessionFactory, *, games: dict[str, int]) -> None:
    """Every queued match finished, and each named submission's rating at ``games``."""
    with factory() as session:
        for match in session.scalars(select(Match).where(Match.status != "finished")):
            match.status = "finished"
        for submission_id, count in games.items():
            submission = session.get(Submission, submission_id)
            assert submission is not None
            rating = session.get(Rating, submission_id) or Rating(
                submission_id=submission_id,
                agent_id=submission.agent_id,
                game=DEMO_GAME,
                mu=DEFAULT_MU,
                sigma=DEFAULT_SIGMA,
            )
            rating.games = count
            session.add(rating)
        session.commit()


def _new_seats(factory: SessionFactory, since: object) -> list[set[str]]:
    with factory() as session:
        rows = session.scalars(select(Match).where(Match.created_at >= since)).all()
        return [{player.submission_id for player in match.players} for match in rows]


def test_a_late_example_is_placed_first_and_counting_starts_with_it(
    client: TestClient, session_factory: SessionFactory, settings: Settings
) -> None:
    demo = _demo_account(session_factory)
    early = {name: pretend_built(client, session_factory, demo, name)[1] for name in EARLY}
    late = pretend_built(client, session_factory, demo, LATE, status="success")[1]
    ladder = LadderScheduler(
        session_factory, settings.model_copy(update={"ladder_concurrency": 4}), random.Random(3)
    )
    # The examples built first play a while on their own.
    for _ in range(5):
        assert ladder.tick() == 4
        _finish_all(session_factory, games={})
    _finish_all(session_factory, games=dict.fromkeys(early.values(), 13))
    assert ladder_matches_since(session_factory, DEMO_GAME, utcnow() - timedelta(hours=1)) == 20
    waiting = {e.name: (e.status, e.games) for e in demo_examples(session_factory)}
    assert waiting[LATE] == ("success", 0)

    # The last one becomes active: the demo starts counting now, and it has played nothing.
    with session_factory() as session:
        row = session.get(Submission, late)
        assert row is not None
        row.status = "active"
        session.commit()
    since = utcnow()
    assert ladder_matches_since(session_factory, DEMO_GAME, since) == 0
    examples = demo_examples(session_factory)
    assert [e.name for e in examples] == list(DEMO_AGENTS)
    assert {e.name: e.games for e in examples} == {**dict.fromkeys(EARLY, 13), LATE: 0}

    # Every match the ladder queues now places it, until its placement games are owed no more.
    placement = settings.ladder_placement_games
    assert ladder.tick() == 4
    seats = _new_seats(session_factory, since)
    assert len(seats) == 4 and all(late in pair for pair in seats)
    _finish_all(session_factory, games={late: 4})
    assert ladder.tick() == 4
    later = _new_seats(session_factory, since)[4:]
    assert sum(late in pair for pair in later) >= placement - 4
    _finish_all(session_factory, games={late: placement})
    assert ladder_matches_since(session_factory, DEMO_GAME, since) == 8
    assert {e.name: e.games for e in demo_examples(session_factory)}[LATE] == placement
