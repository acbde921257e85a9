"""Ratings through the real recording path: ranked matches only, errors never, new versions
from their predecessor's mu, recomputation identical to the live numbers, the leaderboard
and head-to-head records."""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.matches.models import Match
from botarena.matches.queue import MatchQueue
from botarena.matches.recording import MatchRecorder
from botarena.ratings.book import DEFAULT_MU, DEFAULT_SIGMA, recompute
from botarena.ratings.hook import RatingsHook

from support.accounts import Account
from support.court import Court


def test_recompute_gives_the_live_numbers_exactly(
    court: Court,
    alice: Account,
    bob: Account,
) -> None:
    agents = [court.ready(who, f"bot-{i}")[0] for i, who in enumerate((alice, bob, alice, bob))]
    chance = random.Random(5)
    for index in range(40):
        a, b = chance.sample(agents, 2)
        court.play((a, b), chance.choice([0, 1, 1, None]))
        if index == 20:  # a new version of agent 0 joins halfway
            court.new_version(alice, agents[0])
    court.play((agents[0], agents[1]), None, fails=True)
    live = court.ratings()
    with court.factory() as session:
        assert recompute(session) == 40
        session.commit()
    assert court.ratings() == live  # to the last bit
    assert len(live) == 5


def test_errors_and_scrimmages_change_no_rating(
    court: Court,
    alice: Account,
) -> None:
    a, _ = court.ready(alice, "steady")
    b, _ = court.ready(alice, "other")
    court.play((a, b), 0)
    before = court.ratings()
    court.play((a, b), None, fails=True)
    court.play((a, b), 1, ranked=False)
    assert court.ratings() == before


def test_a_new_version_starts_from_its_predecessors_mu(
    court: Court,
    alice: Account,
    bob: Account,
) -> None:
    strong, first = court.ready(alice, "strong")
    weak, _ = court.ready(bob, "weak")
    for _ in range(5):
        court.play((strong, weak), 0)
    old_mu = court.ratings()[first][0]
    assert old_mu > DEFAULT_MU
    second = court.new_version(alice, strong)
    court.play((weak, strong), None)
    # The draw moved it from where it started: the old mu and a fresh sigma.
    mu, sigma, games, *_ = court.ratings()[second]
    assert games == 1 and sigma < DEFAULT_SIGMA
    assert abs(mu - old_mu) < 3 and abs(mu - DEFAULT_MU) > 1


def test_leaderboard_and_head_to_head(
    court: Court,
    alice: Account,
    bob: Account,
) -> None:
    top, top_sub = court.ready(alice, "Top")
    low, _ = court.ready(bob, "Low")
    idle, _ = court.ready(bob, "Idle")
    for winner in (0, 0, 0, None):
        court.play((top, low), winner)

    board = court.client.get("/api/v1/leaderboard", params={"game": "connectx"})
    assert board.status_code == 200
    rows = board.json()["items"]
    assert rows[0]["agentName"] == "Top"
    assert [r["rank"] for r in rows] == [1, 2, 3]
    first = rows[0]
    assert first["submissionId"] == top_sub and first["ownerId"] == alice.id
    assert (first["games"], first["wins"], first["losses"], first["draws"]) == (4, 3, 0, 1)
    assert first["score"] == pytest.approx(first["mu"] - 3 * first["sigma"])
    assert first["lastMatchAt"] is not None and first["version"] == 1
    unrated = next(r for r in rows if r["agentId"] == idle)
    assert (unrated["mu"], unrated["sigma"], unrated["games"]) == (DEFAULT_MU, DEFAULT_SIGMA, 0)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)

    record = court.client.get(f"/api/v1/agents/{top}/head-to-head").json()
    assert record["items"] == [
        {"opponentId": low, "opponentName": "Low", "games": 4, "wins": 3, "losses": 0, "draws": 1}
    ]
    assert court.client.get("/api/v1/leaderboard", params={"game": "chess"}).status_code == 422
    assert court.client.get("/api/v1/agents/agt-nope/head-to-head").status_code == 404


def test_only_admins_create_ranked_matches(court: Court, alice: Account) -> None:
    a, _ = court.ready(alice, "eager")
    answer = court.client.post(
        "/api/v1/matches",
        json={"agent1Id": a, "agent2Id": a, "ranked": True},
        headers=alice.headers,
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "Only admins may create ranked matches"
    with court.factory() as session:
        assert session.scalars(select(Match)).all() == []


def _claimed(court: Court, pair: tuple[str, str]) -> str:
    body = {"agent1Id": pair[0], "agent2Id": pair[1], "ranked": True}
    created = court.client.post("/api/v1/matches", json=body, headers=court.admin.headers)
    assert created.status_code == 201, created.text
    with court.factory() as session:
        match = MatchQueue(session, court.settings).claim_next("slot", "127.0.0.1:1")
        assert match is not None
        session.commit()
        return match.id


def _record(court: Court, session: Session, match_id: str, winner: int) -> None:
    queue = MatchQueue(session, court.settings)
    match = queue.held(match_id, "slot")
    assert match is not None
    result = MatchResult(
        MatchStatus.FINISHED, winner, [1.0, 0.0], [AgentOutcome(), AgentOutcome()], 9, 50
    )
    MatchRecorder(session, court.settings, RatingsHook()).record(match, result)


@pytest.mark.parametrize("seats", ["same order", "crossed"])
def test_two_first_matches_recorded_at_once_both_count(
    court: Court, alice: Account, bob: Account, seats: str
) -> None:
    # A new submission's first two ranked matches end together: the second recording waits
    # for the first (the rating row it creates, the rows it locks), then counts on top of it.
    a, a_sub = court.ready(alice, "newcomer")
    b, b_sub = court.ready(bob, "rival")
    first = _claimed(court, (a, b))
    second = _claimed(court, (a, b) if seats == "same order" else (b, a))
    outcome: list[BaseException | None] = []
    with court.factory() as one:
        _record(court, one, first, 0)

        def record_second() -> None:
            try:
                with court.factory() as two:
                    _record(court, two, second, 0)
                    two.commit()
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=record_second)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waiting for the first recording
        one.commit()
    thread.join(10)
    assert outcome == [None]
    ratings = court.ratings()
    assert ratings[a_sub][2] == ratings[b_sub][2] == 2
    with court.factory() as session:
        statuses = {session.get(Match, m).status for m in (first, second)}  # type: ignore[union-attr]
    assert statuses == {"finished"}
