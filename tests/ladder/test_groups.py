"""The ladder for a game of more players: groups of the game's usual size (four geese), each
of different agents, fewer when fewer agents can play; pairs for two-player games as ever."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.db.engine import SessionFactory
from botarena.ladder.pairing import Candidate, choose_group, choose_pair
from botarena.ladder.scheduler import LadderScheduler
from botarena.matches.models import Match
from botarena.settings import Settings

from support.accounts import Account
from support.competitors import pretend_built


def _seated(factory: SessionFactory) -> list[list[str]]:
    with factory() as session:
        matches = session.scalars(select(Match).order_by(Match.created_at)).all()
        return [[p.agent_id for p in match.players] for match in matches]


def test_the_ladder_queues_four_player_matches_of_different_agents(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    bob: Account,
) -> None:
    geese = [
        pretend_built(client, session_factory, who, f"goose-{i}", "geese", "active")[0]
        for i, who in enumerate((alice, bob, alice, bob, alice))
    ]
    ladder = LadderScheduler(
        session_factory, settings.model_copy(update={"ladder_concurrency": 3}), random.Random(3)
    )
    assert ladder.tick() == 3
    seated = _seated(session_factory)
    assert len(seated) == 3
    for seats in seated:
        assert len(seats) == 4 and len(set(seats)) == 4
        assert set(seats) <= set(geese)
    with session_factory() as session:
        assert all(m.ranked for m in session.scalars(select(Match)))


def test_a_group_shrinks_to_the_agents_there_are_and_pairs_stay_pairs() -> None:
    def candidate(n: int, owner: str) -> Candidate:
        return Candidate(f"sub-{n}", f"agt-{n}", owner, 25.0, 8.3, 0, 0, None)

    three = [candidate(1, "a"), candidate(2, "b"), candidate(3, "a")]
    group = choose_group(three, random.Random(1), size=4)
    assert group is not None and sorted(c.agent_id for c in group) == ["agt-1", "agt-2", "agt-3"]
    assert choose_group(three[:1], random.Random(1), size=4) is None
    # Two seats: exactly the pair policy, drawing the same numbers.
    assert choose_group(three, random.Random(5), size=2) == choose_pair(three, random.Random(5))
