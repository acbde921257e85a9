"""A competition from announcement to frozen standings, through the real API, with an
injected clock; matches are recorded as the dispatcher records them (no sandboxes)."""

from __future__ import annotations

import random
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.db.engine import SessionFactory
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.finals.director import FinalsDirector
from botarena.ladder.scheduler import LadderScheduler
from botarena.matches.models import Match
from botarena.matches.queue import MatchQueue
from botarena.matches.recording import MatchRecorder
from botarena.ratings.hook import RatingsHook
from botarena.settings import Settings
from botarena.tournaments.director import TournamentDirector

from support.accounts import Account, MakeUser
from support.competing import START, Clock, built_in, create_competition
from support.competitors import pretend_built
from support.pages import sign_in
from support.referee import Referee, by_strength


def _ladder_matches(factory: SessionFactory) -> list[tuple[str | None, list[str]]]:
    with factory() as session:
        rows = session.scalars(select(Match).where(Match.ranked.is_(True))).all()
        return [(m.competition_id, [p.submission_id for p in m.players]) for m in rows]


def _cancel_queued(factory: SessionFactory, settings: Settings) -> None:
    with factory() as session:
        queue = MatchQueue(session, settings)
        for match in session.scalars(select(Match).where(Match.status == "queued")).all():
            queue.cancel(match, "cleared by the test")
        session.commit()


def test_from_upcoming_through_the_final_to_frozen_standings(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    admin: Account,
    make_user: MakeUser,
    referee: Referee,
    clock: Clock,
) -> None:
    made = create_competition(
        client, admin, finalSubmissionsPerTeam=1, configuration={"rows": 5, "columns": 6}
    )
    cid = made["id"]
    ladder = LadderScheduler(session_factory, settings, random.Random(3))
    ana, ben, cy = (make_user(name) for name in ("ana", "ben", "cy"))
    # A default competition's agents never meet the competition's.
    pretend_built(client, session_factory, ana, "outside-1")
    pretend_built(client, session_factory, ben, "outside-2")

    clock.set(START + timedelta(hours=1))
    strong = built_in(client, session_factory, ana, cid, "strong")
    weak = built_in(client, session_factory, ben, cid, "weak")
    middle = built_in(client, session_factory, cy, cid, "middle")
    spare = built_in(client, session_factory, cy, cid, "spare", status="inactive")
    ours = {strong[1], weak[1], middle[1], spare[1]}

    assert ladder.tick() > 0
    by_competition = _ladder_matches(session_factory)
    for competition_id, seats in by_competition:
        assert (competition_id == cid) == (set(seats) <= ours)
    with session_factory() as session:
        match = session.scalars(select(Match).where(Match.competition_id == cid)).first()
        assert match is not None and '"rows": 5' in match.configuration
    _cancel_queued(session_factory, settings)

    # Cy picks the inactive one for the final; the others keep the default (newest active).
    chosen = client.put(
        f"/api/v1/competitions/{cid}/selection",
        json={"submissionIds": [spare[1]]},
        headers=cy.headers,
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["effectiveSubmissionIds"] == [spare[1]]
    too_many = client.put(
        f"/api/v1/competitions/{cid}/selection",
        json={"submissionIds": [spare[1], middle[1]]},
        headers=cy.headers,
    )
    assert too_many.status_code == 422

    clock.set(START + timedelta(days=10, hours=1))  # after the deadline
    assert client.get(f"/api/v1/competitions/{cid}").json()["phase"] == "closed"
    before = len(_ladder_matches(session_factory))
    ladder.tick()
    after_deadline = _ladder_matches(session_factory)[before:]
    assert after_deadline
    for competition_id, seats in after_deadline:
        if competition_id == cid:
            assert middle[1] not in seats  # not selected
    _cancel_queued(session_factory, settings)
    board = client.get(f"/api/v1/competitions/{cid}/leaderboard").json()
    assert {r["submissionId"] for r in board["items"]} == {strong[1], weak[1], spare[1]}
    assert board["final"] is False

    refused = client.post(
        f"/api/v1/competitions/{cid}/final-evaluation", json={"rounds": 1}, headers=ana.headers
    )
    assert refused.status_code == 403
    started = client.post(
        f"/api/v1/competitions/{cid}/final-evaluation", json={"rounds": 2}, headers=admin.headers
    )
    assert started.status_code == 200, started.text
    assert started.json()["phase"] == "final"
    tournament = started.json()["finalTournamentId"]
    assert referee.show(tournament)["competitionId"] == cid
    again = client.post(
        f"/api/v1/competitions/{cid}/final-evaluation", json={"rounds": 1}, headers=admin.headers
    )
    assert again.status_code == 409

    strength = {strong[1]: 3, spare[1]: 2, weak[1]: 1}
    finished = referee.run(tournament, by_strength(strength))
    # Three entrants, each pair twice in each seat.
    assert finished["progress"]["gamesDecided"] == 3 * 4

    live = client.get(f"/api/v1/competitions/{cid}/leaderboard").json()
    assert live["final"] is True and live["frozen"] is False
    assert [r["submissionId"] for r in live["items"]] == [strong[1], spare[1], weak[1]]
    assert all(r["games"] == 8 for r in live["items"])  # the final's matches only

    assert FinalsDirector(session_factory, settings).tick() == 1
    frozen = client.get(f"/api/v1/competitions/{cid}").json()
    assert frozen["phase"] == "frozen"
    board = client.get(f"/api/v1/competitions/{cid}/leaderboard").json()
    assert board["frozen"] is True
    assert [r["submissionId"] for r in board["items"]] == [strong[1], spare[1], weak[1]]
    assert all(r["sigma"] > 0 for r in board["items"])

    # Nothing plays any more, and nothing changes the standings.
    before = len(_ladder_matches(session_factory))
    ladder.tick()
    assert all(c != cid for c, _ in _ladder_matches(session_factory)[before:])
    scrimmage = client.post(
        "/api/v1/matches",
        json={"agent1Id": strong[0], "agent2Id": weak[0]},
        headers=ana.headers,
    )
    assert scrimmage.status_code == 400
    assert "frozen" in scrimmage.json()["error"]
    clock.set(START + timedelta(days=30))
    assert client.get(f"/api/v1/competitions/{cid}/leaderboard").json()["items"] == board["items"]
    # The final's matches stay readable, with their competition.
    games = [
        g for r in referee.show(tournament)["schedule"] for p in r["pairings"] for g in p["games"]
    ]
    played = client.get(f"/api/v1/matches/{games[0]['matchId']}")
    assert played.status_code == 200 and played.json()["competitionId"] == cid


def test_the_final_end_date_stops_an_unfinished_final_and_keeps_what_was_played(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    admin: Account,
    make_user: MakeUser,
    referee: Referee,
    clock: Clock,
) -> None:
    made = create_competition(client, admin)
    cid = made["id"]
    clock.set(START + timedelta(hours=1))
    subs = [
        built_in(client, session_factory, make_user(name), cid, f"{name}-bot")[1]
        for name in ("una", "dos", "tres")
    ]
    clock.set(START + timedelta(days=10, hours=1))
    started = client.post(
        f"/api/v1/competitions/{cid}/final-evaluation", json={"rounds": 1}, headers=admin.headers
    )
    assert started.status_code == 200, started.text
    tournament = started.json()["finalTournamentId"]
    referee.director.tick()
    referee.play_queued(by_strength({subs[0]: 3, subs[1]: 2, subs[2]: 1}))

    clock.set(START + timedelta(days=15, seconds=1))  # the final's end date
    assert FinalsDirector(session_factory, settings).tick() == 1
    assert referee.show(tournament)["status"] == "cancelled"
    board = client.get(f"/api/v1/competitions/{cid}/leaderboard").json()
    assert board["frozen"] and board["final"]
    assert sum(r["games"] for r in board["items"]) > 0  # what was played counts
    with session_factory() as session:
        waiting = session.scalars(
            select(Match).where(Match.competition_id == cid, Match.status == "queued")
        ).all()
        assert waiting == []


def test_a_final_of_a_game_of_more_players_is_played_at_tables_of_its_size(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    admin: Account,
    make_user: MakeUser,
    clock: Clock,
) -> None:
    made = create_competition(client, admin, game="geese", title="Goose Cup")
    cid = made["id"]
    clock.set(START + timedelta(hours=1))
    players = [make_user(name) for name in ("ana", "ben", "cy", "dee")]
    subs = [built_in(client, session_factory, p, cid, f"goose-{p.username}")[1] for p in players]
    strength = dict(zip(subs, (4, 3, 2, 1), strict=True))
    clock.set(START + timedelta(days=10, hours=1))  # after the deadline
    _cancel_queued(session_factory, settings)
    organiser = make_user("organiser", admin=True, password="organiser-pass")
    assert sign_in(client, organiser.username, "organiser-pass").status_code == 303
    assert "at a table of 4" in client.get(f"/competitions/{made['slug']}").text

    started = client.post(
        f"/api/v1/competitions/{cid}/final-evaluation", json={"rounds": 2}, headers=admin.headers
    )
    assert started.status_code == 200, started.text
    tournament = started.json()["finalTournamentId"]
    director = TournamentDirector(session_factory, settings)
    seats_seen: list[int] = []
    for _ in range(10):
        director.tick()
        with session_factory() as session:
            queue = MatchQueue(session, settings)
            while (match := queue.claim_next("referee", "127.0.0.1:1")) is not None:
                seats = [p.submission_id for p in match.players]
                seats_seen.append(len(seats))
                scores = [float(strength[s]) for s in seats]  # the stronger goose lasts longer
                result = MatchResult(
                    MatchStatus.FINISHED, None, scores, [AgentOutcome()] * len(seats), 9, 5
                )
                MatchRecorder(session, settings, RatingsHook()).record(match, result)
            session.commit()
    shown = client.get(f"/api/v1/tournaments/{tournament}").json()
    assert shown["format"] == "free_for_all" and shown["status"] == "finished", shown
    assert seats_seen == [4, 4]  # two rounds, one table of four each

    # Rated by Plackett-Luce from each match's full order: the final board keeps it.
    assert FinalsDirector(session_factory, settings).tick() == 1
    board = client.get(f"/api/v1/competitions/{cid}/leaderboard").json()
    assert board["frozen"] is True
    assert [r["submissionId"] for r in board["items"]] == subs
    assert all(r["games"] == 2 for r in board["items"])
