"""Tournaments through the real API and the real match queue: round robin, swiss and single
elimination played to the end, errored matches replayed, ratings untouched, the same seed
giving the same tournament, and bad requests refused without a trace."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from botarena.db.engine import SessionFactory
from botarena.matches.cancels import PlayingMatches
from botarena.matches.events import TOPIC_PREFIX
from botarena.matches.models import Match
from botarena.matches.queue import MatchQueue
from botarena.ratings.models import Rating
from botarena.tournaments.models import Tournament
from botarena.tournaments.rounds import MAX_DECIDERS, MAX_REPLAYS

from support.accounts import Account
from support.competitors import pretend_built
from support.referee import ERROR, Referee, by_strength


def _entrants(
    client: TestClient, factory: SessionFactory, owners: list[Account], count: int
) -> list[str]:
    return [
        pretend_built(client, factory, owners[i % len(owners)], f"entrant-{i}")[1]
        for i in range(count)
    ]


def _pairs(shown: dict[str, Any]) -> list[tuple[int, str, str | None]]:
    return [(r["round"], p["a"], p["b"]) for r in shown["schedule"] for p in r["pairings"]]


def _count(factory: SessionFactory, model: type[Any]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_round_robin_meets_everyone_and_leaves_ratings_alone(
    client: TestClient,
    session_factory: SessionFactory,
    referee: Referee,
    alice: Account,
    bob: Account,
) -> None:
    subs = _entrants(client, session_factory, [alice, bob], 4)
    strength = {sub: rank for rank, sub in enumerate(reversed(subs))}  # subs[0] the strongest
    started = referee.start(game="connectx", format="round_robin", gamesPerPairing=2)
    assert started["status"] == "running" and started["currentRound"] == 1
    assert started["rounds"] == 3 and started["entrants"] == 4
    first_round = started["schedule"][0]["pairings"]
    assert len(first_round) == 2 and all(len(p["games"]) == 2 for p in first_round)
    assert all(g["matchStatus"] == "queued" for p in first_round for g in p["games"])

    final = referee.run(started["id"], by_strength(strength))
    assert [s["submissionId"] for s in final["standings"]] == subs
    assert [s["points"] for s in final["standings"]] == [6, 4, 2, 0]
    assert final["progress"]["gamesDecided"] == final["progress"]["gamesPlanned"] == 12
    assert final["finishedAt"] is not None and final["bracket"] is None
    assert final["tiebreaks"] == ["points", "headToHead", "sonnebornBerger", "wins", "seed"]
    met = Counter(frozenset((a, b)) for _, a, b in _pairs(final) if b is not None)
    assert len(met) == 6 and set(met.values()) == {1}

    with session_factory() as session:
        matches = session.scalars(select(Match)).all()
        assert len(matches) == 12
        assert not any(m.ranked or m.created_by for m in matches)  # never the ladder's
        firsts = Counter(m.players[0].submission_id for m in matches)
        assert set(firsts.values()) == {3}  # everyone moved first in half its games
        assert session.scalar(select(func.count()).select_from(Rating)) == 0


def test_an_errored_match_is_played_again_and_never_counted_as_a_loss(
    client: TestClient, session_factory: SessionFactory, referee: Referee, alice: Account
) -> None:
    strong, weak = _entrants(client, session_factory, [alice], 2)
    started = referee.start(game="connectx", format="round_robin", submissionIds=[strong, weak])
    game = started["schedule"][0]["pairings"][0]["games"][0]
    referee.play_queued(lambda match: ERROR)
    referee.director.tick()
    again = referee.show(started["id"])["schedule"][0]["pairings"][0]["games"][0]
    assert again["replays"] == 1 and again["matchId"] != game["matchId"]
    assert again["matchStatus"] == "queued" and again["scoreA"] is None
    with session_factory() as session:
        first, second = (session.get(Match, g["matchId"]) for g in (game, again))
        assert first is not None and second is not None
        assert first.status == "error" and second.seed == first.seed  # the same game again

    final = referee.run(started["id"], by_strength({strong: 2, weak: 1}))
    lines = {s["submissionId"]: s for s in final["standings"]}
    assert (lines[strong]["wins"], lines[strong]["losses"]) == (1, 0)
    assert (lines[weak]["wins"], lines[weak]["losses"]) == (0, 1)
    assert final["progress"]["replays"] == 1


def test_a_game_the_platform_never_plays_is_void_and_counts_for_no_one(
    client: TestClient, session_factory: SessionFactory, referee: Referee, alice: Account
) -> None:
    subs = _entrants(client, session_factory, [alice], 2)
    started = referee.start(game="connectx", format="round_robin", submissionIds=subs)
    final = referee.run(started["id"], lambda match: ERROR)
    games = final["schedule"][0]["pairings"][0]["games"]
    assert games[0]["void"] and games[0]["replays"] == MAX_REPLAYS
    assert final["progress"]["gamesVoid"] == 1
    assert all(
        (s["points"], s["wins"], s["losses"], s["draws"]) == (0, 0, 0, 0)
        for s in final["standings"]
    )
    assert _count(session_factory, Match) == MAX_REPLAYS + 1


def test_single_elimination_with_byes_deciders_and_the_seed(
    client: TestClient, session_factory: SessionFactory, referee: Referee, alice: Account
) -> None:
    _entrants(client, session_factory, [alice], 6)
    started = referee.start(game="connectx", format="single_elimination", seed=11)
    by_seed = {s["seed"]: s["submissionId"] for s in started["standings"]}
    assert started["rounds"] == 3
    assert {s["roundReached"] for s in started["standings"]} == {1}
    first = started["bracket"][0]["pairings"]
    assert [(p["a"], p["b"], p["bye"]) for p in first] == [
        (by_seed[1], None, True),
        (by_seed[4], by_seed[5], False),
        (by_seed[2], None, True),
        (by_seed[3], by_seed[6], False),
    ]
    assert [p["winner"] for p in first] == [by_seed[1], None, by_seed[2], None]
    assert [len(r["pairings"]) for r in started["bracket"]] == [4, 2, 1]
    assert started["bracket"][1]["pairings"][0] == {
        "a": by_seed[1],
        "b": None,
        "bye": False,
        "winner": None,
    }

    # Seed 6 is the strongest, but every game with seed 3 is drawn: after the deciding games
    # the better seed, 3, goes through.
    strength = {by_seed[s]: value for s, value in {6: 6, 5: 5, 1: 4, 2: 3, 4: 2, 3: 1}.items()}
    drawn = {by_seed[3], by_seed[6]}

    def decide(match: Match) -> int | None:
        if {p.submission_id for p in match.players} == drawn:
            return None
        return by_strength(strength)(match)

    final = referee.run(started["id"], decide)
    order = [final["standings"][i]["seed"] for i in range(6)]
    assert order == [5, 2, 1, 3, 4, 6]
    assert [s["roundReached"] for s in final["standings"]] == [4, 3, 2, 2, 1, 1]
    level = final["schedule"][0]["pairings"][3]["games"]
    assert len(level) == 1 + MAX_DECIDERS
    assert [g["aFirst"] for g in level] == [True, False, True, False]
    assert [r["pairings"][0]["winner"] for r in final["bracket"]][1:] == [by_seed[5], by_seed[5]]
    assert final["bracket"][1]["pairings"][1]["a"] == by_seed[2]
    assert final["bracket"][1]["pairings"][1]["b"] == by_seed[3]


def test_swiss_pairs_without_repeats_and_gives_each_bye_once(
    client: TestClient,
    session_factory: SessionFactory,
    referee: Referee,
    alice: Account,
    bob: Account,
) -> None:
    subs = _entrants(client, session_factory, [alice, bob], 7)
    strength = {sub: index % 4 for index, sub in enumerate(subs)}  # some level: draws
    started = referee.start(game="connectx", format="swiss", rounds=4, seed=3)
    final = referee.run(started["id"], by_strength(strength))
    pairs = _pairs(final)
    assert len(pairs) == 4 * 4  # three pairings and a bye per round
    met = [frozenset((a, b)) for _, a, b in pairs if b is not None]
    assert len(met) == len(set(met))
    byes = [a for _, a, b in pairs if b is None]
    assert len(byes) == len(set(byes)) == 4
    lines = final["standings"]
    assert sum(s["points"] for s in lines) == 12 + 4  # a point a game and a point a bye
    assert final["tiebreaks"][:2] == ["points", "buchholz"]
    keys = [(-s["points"], -s["buchholz"], -s["sonnebornBerger"], -s["wins"]) for s in lines]
    assert keys == sorted(keys)


def test_the_same_seed_gives_the_same_tournament(
    client: TestClient, session_factory: SessionFactory, referee: Referee, alice: Account
) -> None:
    subs = _entrants(client, session_factory, [alice], 5)
    strength = {sub: index % 3 for index, sub in enumerate(subs)}
    runs = []
    for _ in range(2):
        started = referee.start(game="connectx", format="swiss", rounds=3, seed=1234)
        final = referee.run(started["id"], by_strength(strength))
        with session_factory() as session:
            seeds = [
                session.get(Match, g["matchId"]).seed  # type: ignore[union-attr]
                for r in final["schedule"]
                for p in r["pairings"]
                for g in p["games"]
            ]
        runs.append((_pairs(final), seeds, [s["submissionId"] for s in final["standings"]]))
    assert runs[0] == runs[1]


def test_the_entrants_are_frozen_when_it_starts(
    client: TestClient, session_factory: SessionFactory, referee: Referee, alice: Account
) -> None:
    subs = _entrants(client, session_factory, [alice], 3)
    started = referee.start(game="connectx", format="swiss", rounds=2)
    late = pretend_built(client, session_factory, alice, "late")[1]
    final = referee.run(started["id"], by_strength({s: 1 for s in [*subs, late]}))
    entered = {s["submissionId"] for s in final["standings"]}
    assert entered == set(subs)
    assert all(late not in (a, b) for _, a, b in _pairs(final))


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"game": "chess", "format": "swiss"}, 422, "chess"),
        ({"game": "connectx", "format": "ladder"}, 422, "format"),
        ({"game": "connectx", "format": "round_robin", "rounds": 2}, 422, "swiss"),
        ({"game": "connectx", "format": "swiss", "rounds": 101}, 422, "between 1 and 100"),
        ({"game": "connectx", "format": "swiss", "gamesPerPairing": 0}, 422, "gamesPerPairing"),
        ({"game": "connectx", "format": "swiss", "submissionIds": ["sub_x"]}, 404, "not found"),
        ({"game": "tictactoe", "format": "swiss"}, 409, "at least 2 entrants"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    client: TestClient,
    session_factory: SessionFactory,
    alice: Account,
    admin: Account,
    body: dict[str, Any],
    status: int,
    says: str,
) -> None:
    _entrants(client, session_factory, [alice], 2)
    answer = client.post("/api/v1/tournaments", json=body, headers=admin.headers)
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert _count(session_factory, Tournament) == 0 and _count(session_factory, Match) == 0


def test_who_and_what_may_enter(
    client: TestClient,
    session_factory: SessionFactory,
    referee: Referee,
    alice: Account,
    admin: Account,
) -> None:
    one, two = _entrants(client, session_factory, [alice], 2)
    pending = pretend_built(client, session_factory, alice, "pending", status="pending")[1]
    other = pretend_built(client, session_factory, alice, "ttt", game="tictactoe")[1]
    kept = pretend_built(client, session_factory, alice, "kept", status="inactive")[1]
    body = {"game": "connectx", "format": "round_robin"}
    refused = client.post("/api/v1/tournaments", json=body, headers=alice.headers)
    assert refused.status_code == 403
    assert refused.json()["error"] == "Only admins may create tournaments"
    for ids, says in [
        ([one, one], "listed twice"),
        ([one, pending], "cannot play (status: pending)"),
        ([one, other], "plays tictactoe, not connectx"),
        ([one], "at least 2 entrants"),
    ]:
        answer = client.post(
            "/api/v1/tournaments", json={**body, "submissionIds": ids}, headers=admin.headers
        )
        assert answer.status_code == 422 and says in answer.text, answer.text
    assert _count(session_factory, Tournament) == 0
    # An inactive submission still has its build: it may be entered by name.
    started = referee.start(**body, submissionIds=[one, two, kept], gamesPerPairing=3)
    assert started["progress"]["gamesPlanned"] == 9
    listed = client.get("/api/v1/tournaments", params={"game": "connectx"}).json()
    assert [t["id"] for t in listed["items"]] == [started["id"]] and listed["total"] == 1
    assert client.get("/api/v1/tournaments/tou_missing").status_code == 404
    too_many = client.post(
        "/api/v1/tournaments",
        json={
            "game": "connectx",
            "format": "swiss",
            "rounds": 100,
            "gamesPerPairing": 15,
            "submissionIds": [one, two],
        },
        headers=admin.headers,
    )
    assert too_many.status_code == 201  # 1,500 games: within the limit


class _Call:
    """An executor call that records being cancelled."""

    def __init__(self, cancelled: threading.Event) -> None:
        self.cancelled = cancelled

    def cancel(self) -> None:
        self.cancelled.set()


def test_cancelling_stops_a_tournament_and_its_matches(
    client: TestClient,
    session_factory: SessionFactory,
    referee: Referee,
    alice: Account,
    admin: Account,
) -> None:
    subs = _entrants(client, session_factory, [alice], 4)
    started = referee.start(game="connectx", format="swiss", rounds=3)
    url = f"/api/v1/tournaments/{started['id']}/cancel"
    refused = client.post(url, headers=alice.headers)
    assert refused.status_code == 403
    assert refused.json()["error"] == "Only admins may cancel tournaments"
    with session_factory() as session:  # one of the two matches is being played
        playing = MatchQueue(session, referee.settings).claim_next("slot", "127.0.0.1:1")
        assert playing is not None
        session.commit()
    # The dispatcher playing it hears the cancel on the bus and stops it on its executor.
    heard = PlayingMatches()
    subscription = client.app.state.events.subscribe(  # type: ignore[attr-defined]
        TOPIC_PREFIX, heard.heard, prefix=True
    )
    call = threading.Event()

    cancelled = client.post(url, headers=admin.headers)
    assert cancelled.status_code == 200, cancelled.text
    with heard.playing(playing.id, _Call(call)):  # (its end cancels the call in any case)
        assert call.wait(10), "the dispatcher's call was not cancelled"
    subscription.close()
    assert heard.cancelled(playing.id)
    shown = cancelled.json()
    assert shown["status"] == "cancelled" and shown["finishedAt"] is not None
    games = [g for p in shown["schedule"][0]["pairings"] for g in p["games"]]
    assert {g["matchStatus"] for g in games} == {"cancelled"}
    assert referee.play_queued(by_strength({s: 1 for s in subs})) == 0  # nothing left to play
    assert referee.director.tick() == 0
    assert referee.show(started["id"])["currentRound"] == 1
    again = client.post(url, headers=admin.headers)
    assert again.status_code == 409 and "is cancelled already" in again.json()["error"]
    assert client.post("/api/v1/tournaments/tou-x/cancel", headers=admin.headers).status_code == 404
