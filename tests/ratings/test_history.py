"""Rating history through the real recording path: one change per player of each finished
ranked match, chained from one match to the next and ending at the stored rating, and
rebuilt identically by a recompute."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from botarena.matches.models import Match
from botarena.ratings.book import DEFAULT_MU, DEFAULT_SIGMA, recompute
from botarena.ratings.models import Rating, RatingChange
from botarena.ratings.service import RatingService

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


def test_rank_change_since_yesterday(court: Court, alice: Account, bob: Account) -> None:
    now = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    rise, _ = court.ready(alice, "Rise")
    fall, _ = court.ready(bob, "Fall")
    new, _ = court.ready(alice, "Newcomer")
    idle, _ = court.ready(bob, "Idle")
    for hours in (50, 49, 48):  # two days ago Fall beat Rise three times
        court.play((fall, rise), 0, at=now - timedelta(hours=hours))
    court.play((new, idle), 0, ranked=False, at=now - timedelta(hours=30))  # not rated
    # Exactly at the cutoff is not before it.
    court.play((new, fall), 0, at=now - timedelta(hours=24))
    for minutes in range(6):  # in the last day Rise beat Fall, and Newcomer came
        court.play((rise, fall), 0, at=now - timedelta(hours=3, minutes=-minutes))
    court.play((new, fall), 0, at=now - timedelta(hours=1))

    with court.factory() as session:
        service = RatingService(session)
        board = service.leaderboard("connectx")
        changes = service.rank_changes("connectx", board, now)
        by_agent = {s.agent.id: changes[s.submission.id] for s in board}
    assert [s.agent.id for s in board][:2] == [rise, new]
    # Then: Fall first (3 wins), Idle and Newcomer unrated at the start, Rise last (3 losses).
    assert (by_agent[rise].now, by_agent[rise].then, by_agent[rise].rose) == (1, 4, 3)
    assert (by_agent[fall].then, by_agent[fall].rose) == (1, 1 - by_agent[fall].now)
    assert by_agent[fall].rose is not None and by_agent[fall].rose < 0
    assert by_agent[new].new and by_agent[new].rose is None
    assert by_agent[idle].new  # never rated: nothing to compare
    # A day later still, nothing moved since the cutoff: no change for the rated ones.
    with court.factory() as session:
        service = RatingService(session)
        later = service.rank_changes("connectx", board, now + timedelta(days=2))
    assert {c.rose for c in later.values() if not c.new} == {0}


def test_history_and_match_changes_in_the_api(court: Court, alice: Account) -> None:
    a, a_sub = court.ready(alice, "Alpha")
    b, _ = court.ready(alice, "Beta")
    first = court.play((a, b), 0)
    second = court.play((b, a), None)
    scrimmage = court.play((a, b), 1, ranked=False)

    history = court.client.get(f"/api/v1/agents/{a}/ratings")
    assert history.status_code == 200
    items = history.json()["items"]
    assert [(i["matchId"], i["player"], i["result"]) for i in items] == [
        (first, 0, "win"),
        (second, 1, "draw"),
    ]
    assert items[0]["opponentId"] == b and items[0]["opponentName"] == "Beta"
    assert items[0]["submissionId"] == a_sub and items[0]["version"] == 1
    assert items[1]["muBefore"] == items[0]["muAfter"]
    assert items[0]["scoreAfter"] == items[0]["muAfter"] - 3 * items[0]["sigmaAfter"]

    changes = court.client.get(f"/api/v1/matches/{first}/rating-changes").json()["items"]
    assert [c["agentId"] for c in changes] == [a, b]
    assert changes[0]["scoreDelta"] > 0 > changes[1]["scoreDelta"]
    assert changes[0]["muAfter"] == items[0]["muAfter"]
    unrated = court.client.get(f"/api/v1/matches/{scrimmage}/rating-changes")
    assert unrated.json()["items"] == []
    assert court.client.get("/api/v1/matches/mat-nope/rating-changes").status_code == 404
    assert court.client.get("/api/v1/agents/agt-nope/ratings").status_code == 404
