"""The tournament pages through the real app on both databases: the list with its filters and
pages, a tournament's standings with a column per tie-break in its format's order, its rounds
and their matches as the API reports them, the bracket of a single elimination with byes (and
none for the other formats), 404s, and names holding HTML shown as text."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from botarena.agents.models import Agent
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.competitors import pretend_built
from support.pages import Page, page_of
from support.referee import Referee, by_strength

# Reads through queries (or, live, notices) no other test runs on PostgreSQL.
BOTH_DATABASES = True

HOSTILE = "<script>alert('agent')</script>"


@pytest.fixture
def referee(
    client: TestClient, session_factory: SessionFactory, settings: Settings, admin: Account
) -> Referee:
    return Referee(client, session_factory, settings, admin)


def _entrants(
    client: TestClient,
    factory: SessionFactory,
    owners: list[Account],
    count: int,
    game: str = "connectx",
) -> list[str]:
    """``count`` active submissions of ``game``."""
    return [
        pretend_built(client, factory, owners[i % len(owners)], f"{game}-{i}", game)[1]
        for i in range(count)
    ]


def _strongest_first(subs: list[str]) -> dict[str, int]:
    return {sub: len(subs) - rank for rank, sub in enumerate(subs)}


def _headers(page: Page) -> list[str]:
    return [th.text for th in page.all("th") if "data-column" in th.attrs]


def _agents_in_order(page: Page) -> list[str]:
    return [th.text for th in page.all("th", scope="row")]


def _names(shown: dict[str, Any]) -> list[str]:
    return [line["agentName"] for line in shown["standings"]]


def test_the_list_filters_by_game_and_status_and_links_each_tournament(
    client: TestClient, session_factory: SessionFactory, referee: Referee, alice: Account
) -> None:
    connectx = _entrants(client, session_factory, [alice], 3)
    rps = _entrants(client, session_factory, [alice], 3, "rps")
    played = referee.start(game="connectx", format="round_robin", submissionIds=connectx)
    referee.run(played["id"], by_strength(_strongest_first(connectx)))
    running = referee.start(game="rps", format="single_elimination", submissionIds=rps)

    page = page_of(client.get("/tournaments"))
    assert page.by_id("tournament-count").text == "2 tournaments"
    rows = [tr.text for tr in page.all("tr")][1:]
    # Newest first: title, game, format, status, entrants, rounds played of planned.
    assert rows[0].startswith(
        f"Rock, paper, scissors single elimination {running['id']} rps single elimination "
        "running 3 0 of 2 "
    ), rows[0]
    assert rows[1].startswith(
        f"ConnectX round robin {played['id']} connectx round robin finished 3 3 of 3 "
    ), rows[1]
    links = [a.attrs["href"] for a in page.all("a") if a.attrs["href"].startswith("/tournaments/")]
    assert links == [f"/tournaments/{running['id']}", f"/tournaments/{played['id']}"]

    by_game = page_of(client.get("/tournaments?game=rps"))
    assert by_game.by_id("tournament-count").text == "1 tournament"
    assert by_game.all("a", href=f"/tournaments/{running['id']}")
    assert by_game.all("option", value="rps", selected="")  # the filter kept in the form
    by_status = page_of(client.get("/tournaments?status=finished"))
    assert by_status.all("a", href=f"/tournaments/{played['id']}")
    assert not by_status.all("a", href=f"/tournaments/{running['id']}")
    assert by_status.all("option", value="finished", selected="")
    both = page_of(client.get("/tournaments?game=connectx&status=running"))
    assert both.by_id("tournament-count").text == "0 tournaments"
    # htmx gets the table alone.
    block = client.get("/tournaments?game=rps", headers={"HX-Request": "true"}).text
    assert running["id"] in block and "<html" not in block

    assert client.get("/tournaments?game=nosuch").status_code == 400
    assert client.get("/tournaments?status=paused").status_code == 400
    assert client.get("/tournaments?page=2").status_code == 404


@pytest.mark.parametrize(
    ("fmt", "columns", "caption"),
    [
        (
            "round_robin",
            ["Points", "Head-to-head", "Sonneborn-Berger", "Wins", "Seed"],
            "Ordered by points, then head-to-head points, then Sonneborn-Berger, then wins, "
            "then seed.",
        ),
        (
            "swiss",
            ["Points", "Buchholz", "Sonneborn-Berger", "Wins", "Seed"],
            "Ordered by points, then Buchholz, then Sonneborn-Berger, then wins, then seed.",
        ),
    ],
)
def test_standings_show_each_tie_break_in_order_and_the_rounds_their_matches(
    fmt: str,
    columns: list[str],
    caption: str,
    client: TestClient,
    session_factory: SessionFactory,
    referee: Referee,
    alice: Account,
    bob: Account,
) -> None:
    subs = _entrants(client, session_factory, [alice, bob], 5)
    started = referee.start(game="connectx", format=fmt, submissionIds=subs)
    final = referee.run(started["id"], by_strength(_strongest_first(subs)))
    answer = client.get(f"/tournaments/{started['id']}")
    assert answer.status_code == 200
    page = page_of(answer)
    assert _headers(page) == ["Rank", "Agent", "Owner", *columns]
    assert page.all("caption")[0].text == caption
    assert _agents_in_order(page) == _names(final)
    first = page.all("tr")[1].text
    best = final["standings"][0]
    owner = "alice" if best["submissionId"] in subs[::2] else "bob"
    assert first.startswith(f"1 {best['agentName']} {owner} {best['points']:g} "), first
    # Each agent links to its page.
    for line in final["standings"]:
        assert page.all("a", href=f"/agents/{line['agentId']}")
    # Every round, every game's match linked, its result in words.
    rounds = [h.text for h in page.all("h3")]
    assert rounds == [f"Round {r['round']}" for r in final["schedule"]]
    match_ids = [g["matchId"] for r in final["schedule"] for p in r["pairings"] for g in p["games"]]
    assert match_ids and all(page.all("a", href=f"/matches/{m}") for m in match_ids)
    assert "won" in page.by_id("rounds").text
    assert "bye" in page.by_id("rounds").text  # five entrants: someone sits out each round
    # Finished: no bracket, no live stream.
    assert not page.all("svg") and not page.all("section", id="bracket")
    assert "sse-connect" not in page.by_id("tournament-live").attrs
    assert "finished" in page.by_id("progress").text


def test_single_elimination_draws_its_bracket_with_byes_and_lists_it_beside(
    client: TestClient,
    session_factory: SessionFactory,
    referee: Referee,
    alice: Account,
) -> None:
    subs = _entrants(client, session_factory, [alice], 3)  # seed 1 has a bye
    started = referee.start(game="connectx", format="single_elimination", submissionIds=subs)
    page = page_of(client.get(f"/tournaments/{started['id']}"))
    live = page.by_id("tournament-live").attrs
    assert live["sse-connect"] == f"/live/tournaments/{started['id']}"
    (svg,) = page.all("svg")
    assert svg.attrs["role"] == "img"
    assert svg.attrs["aria-labelledby"] == "bracket-title bracket-desc"
    assert page.by_id("bracket-title").text == "Bracket of ConnectX single elimination"
    assert "no winner yet" in page.by_id("bracket-desc").text
    assert len(page.all("g", class_="bracket-box bye")) == 1
    assert len([g for g in page.all("g") if "bracket-box" in g.attrs.get("class", "")]) == 3
    assert [t.text for t in page.all("text", class_="bracket-round")] == ["Semi-finals", "Final"]
    listed = page.by_id("bracket-list").text
    seeds = {s["submissionId"]: s["agentName"] for s in started["standings"]}
    top = seeds[started["bracket"][0]["pairings"][0]["a"]]
    assert f"{top} has a bye: {top} goes through" in listed
    assert "not decided yet" in listed
    assert f"✓ {top}" in [t.text for t in page.all("text", class_="bracket-name entrant won")]
    assert _headers(page) == ["Rank", "Agent", "Owner", "Points", "Round reached", "Seed"]
    assert page.all("caption")[0].text == "Ordered by the round reached, then seed."

    final = referee.run(started["id"], by_strength(_strongest_first(subs)))
    done = page_of(client.get(f"/tournaments/{started['id']}"))
    champion = final["standings"][0]["agentName"]
    assert done.by_id("champion").text == f"Winner: {champion}"
    assert f"{champion} won the final" in done.by_id("bracket-desc").text
    assert _agents_in_order(done) == _names(final)
    best = final["standings"][0]
    assert done.all("tr")[1].text == (
        f"1 {champion} alice {best['points']:g} Won the final {best['seed']}"
    )
    decided = [p for p in done.all("path") if p.attrs.get("class") == "bracket-link decided"]
    assert len(decided) == 2  # both semi-finals' winners joined to the final
    assert [h.text for h in done.all("h3")] == ["Semi-finals (round 1)", "Final (round 2)"]


def test_unknown_tournaments_are_404_pages_and_the_stream_too(client: TestClient) -> None:
    answer = client.get("/tournaments/tou_nosuch")
    assert answer.status_code == 404
    assert "not found" in page_of(answer).text
    assert client.get("/live/tournaments/tou_nosuch").status_code == 404


def test_an_agent_name_holding_html_shows_as_text(
    client: TestClient, session_factory: SessionFactory, referee: Referee, alice: Account
) -> None:
    subs = _entrants(client, session_factory, [alice], 3)
    started = referee.start(game="connectx", format="single_elimination", submissionIds=subs)
    with session_factory() as session:
        # The service refuses such names; a row written another way must still show as text.
        for agent in session.query(Agent).all():
            agent.name = HOSTILE
        session.commit()
    answer = client.get(f"/tournaments/{started['id']}")
    assert HOSTILE not in answer.text
    page = page_of(answer)
    assert HOSTILE in page.by_id("standings").text
    assert HOSTILE in page.by_id("bracket-list").text and HOSTILE in page.by_id("rounds").text
    assert all(not s.text for s in page.all("script"))
    assert all(s.attrs.get("src") for s in page.all("script"))
