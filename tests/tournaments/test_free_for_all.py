"""A free-for-all tournament of Hungry Geese through the real API and match queue: tables of
the game's size, one match per table counted as a game between every two at it (points by
placement), and an errored table replayed as one."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from botarena.db.engine import SessionFactory
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.matches.queue import MatchQueue
from botarena.matches.recording import MatchRecorder
from botarena.ratings.hook import RatingsHook
from botarena.ratings.models import Rating
from botarena.settings import Settings
from botarena.tournaments.director import TournamentDirector
from botarena.tournaments.pairing import free_for_all_tables

from support.accounts import Account
from support.competitors import pretend_built


def test_tables_are_as_even_as_can_be() -> None:
    names = [str(n) for n in range(9)]
    assert [len(t) for t in free_for_all_tables(names, 4)] == [3, 3, 3]
    assert [len(t) for t in free_for_all_tables(names[:5], 4)] == [3, 2]
    assert free_for_all_tables(names[:4], 4) == [names[:4]]
    assert free_for_all_tables(names[:2], 4) == [names[:2]]


def test_a_free_for_all_seats_tables_and_scores_by_placement(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    admin: Account,
    alice: Account,
    bob: Account,
) -> None:
    subs = [
        pretend_built(client, session_factory, (alice, bob)[i % 2], f"goose-{i}", "geese")[1]
        for i in range(6)
    ]
    strength = {sub: 10 - rank for rank, sub in enumerate(subs)}  # subs[0] the strongest
    answer = client.post(
        "/api/v1/tournaments",
        json={"game": "geese", "format": "free_for_all", "rounds": 2, "seed": 4},
        headers=admin.headers,
    )
    assert answer.status_code == 201, answer.text
    started = answer.json()
    assert started["rounds"] == 2 and started["progress"]["gamesPlanned"] == 12

    director = TournamentDirector(session_factory, settings)
    failed_once = False
    seats_seen: list[int] = []
    for _ in range(20):
        director.tick()
        shown = client.get(f"/api/v1/tournaments/{started['id']}").json()
        if shown["status"] == "finished":
            break
        with session_factory() as session:
            queue = MatchQueue(session, settings)
            while (match := queue.claim_next("referee", "127.0.0.1:1")) is not None:
                seats = [p.submission_id for p in match.players]
                seats_seen.append(len(seats))
                if not failed_once:
                    failed_once = True
                    queue.fail(match, "the platform could not play it")
                    continue
                scores = [float(strength[s]) for s in seats]
                result = MatchResult(
                    MatchStatus.FINISHED, None, scores, [AgentOutcome()] * len(seats), 9, 5
                )
                MatchRecorder(session, settings, RatingsHook()).record(match, result)
            session.commit()
    assert shown["status"] == "finished", shown
    # Two tables of three a round, the first table played twice (its first match failed).
    assert seats_seen == [3] * 5
    assert shown["progress"]["gamesDecided"] == 12 and shown["progress"]["gamesVoid"] == 0
    standings = shown["standings"]
    assert standings[0]["submissionId"] == subs[0]
    assert standings[0]["points"] == 4  # first at its table of three, twice
    assert sum(line["points"] for line in standings) == 12  # 3 pairs x 2 tables x 2 rounds
    assert shown["tiebreaks"] == ["points", "buchholz", "sonnebornBerger", "wins", "seed"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Rating)) == 0
    # The schedule lists every two entrants at a table, each pair's game pointing at the
    # table's match.
    first_round = shown["schedule"][0]["pairings"]
    assert [p["table"] for p in first_round] == [0, 0, 0, 1, 1, 1]
    table = {p["a"] for p in first_round[:3]} | {p["b"] for p in first_round[:3]}
    assert len(table) == 3
    assert len({p["games"][0]["matchId"] for p in first_round[:3]}) == 1
    page = client.get(f"/tournaments/{started['id']}")
    assert page.status_code == 200 and "free-for-all" in page.text
