"""Rating history through the real recording path: one change per player of each finished
ranked match, chained from one match to the next and ending at the stored rating, and
rebuilt identically by a recompute."""

from __future__ import annotations

import random

from sqlalchemy import select

from botarena.matches.models import Match
from botarena.ratings.book import DEFAULT_MU, DEFAULT_SIGMA, recompute
from botarena.ratings.models import Rating, RatingChange

from support.accounts import Account
from support.court import Court


def test_each_ranked_match_leaves_one_change_per_player(court: Court, alice: Account) -> None:
    a, a_sub = court.ready(alice, "first")
    b, b_sub = court.ready(alice, "second")
    won = court.play((a, b), 0)
    court.play((a, b), None, fails=True)
    court.play((a, b), 1, ranked=False)
    drawn = court.play((b, a), None)

    with court.factory() as session:
        changes = session.scalars(
            select(RatingChange).order_by(RatingChange.at, RatingChange.player)
        ).all()
        assert [(c.match_id, c.player) for c in changes] == [
            (won, 0),
            (won, 1),
            (drawn, 0),
            (drawn, 1),
        ]
        first = changes[0]
        assert (first.submission_id, first.agent_id, first.game) == (a_sub, a, "connectx")
        assert (first.mu_before, first.sigma_before) == (DEFAULT_MU, DEFAULT_SIGMA)
        assert first.mu_after > first.mu_before  # the winner rose
        assert changes[1].mu_after < changes[1].mu_before
        for change in changes:
            match = session.get(Match, change.match_id)
            assert match is not None and change.at == match.finished_at
        # Each submission's changes chain into each other and end at its rating.
        for sub in (a_sub, b_sub):
            mine = [c for c in changes if c.submission_id == sub]
            assert (mine[1].mu_before, mine[1].sigma_before) == (
                mine[0].mu_after,
                mine[0].sigma_after,
            )
            rating = session.get(Rating, sub)
            assert rating is not None
            assert (rating.mu, rating.sigma) == (mine[-1].mu_after, mine[-1].sigma_after)


def test_recompute_rebuilds_the_same_history(court: Court, alice: Account, bob: Account) -> None:
    agents = [court.ready(who, f"bot-{i}")[0] for i, who in enumerate((alice, bob, alice))]
    chance = random.Random(7)
    for index in range(16):
        a, b = chance.sample(agents, 2)
        court.play((a, b), chance.choice([0, 1, None]))
        if index == 8:  # a new version starts from its predecessor's mu
            court.new_version(alice, agents[0])
    live, ratings = court.history(), court.ratings()
    assert len(live) == 32
    with court.factory() as session:
        assert recompute(session) == 16
        session.commit()
    assert court.history() == live  # to the last bit
    assert court.ratings() == ratings
