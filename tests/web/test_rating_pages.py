"""What the pages show of the rating history, through the real app on both databases: the
agent's chart and table, each player's change on a match page, and the leaderboard's rank
change since yesterday for agents that rose, fell and are new."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from botarena.clock import utcnow
from botarena.ratings.models import RatingChange

from support.accounts import Account
from support.court import Court
from support.pages import page_of

# Reads through queries (or, live, notices) no other test runs on PostgreSQL.
BOTH_DATABASES = True


def _changes(court: Court, match_id: str) -> list[RatingChange]:
    with court.factory() as session:
        return list(
            session.scalars(
                select(RatingChange)
                .where(RatingChange.match_id == match_id)
                .order_by(RatingChange.player)
            )
        )


def test_the_agent_page_charts_the_rating_with_a_table_behind(
    court: Court, alice: Account, bob: Account
) -> None:
    agent, _ = court.ready(alice, "Climber")
    rival, _ = court.ready(bob, "Rival")
    played = [court.play((agent, rival), 0), court.play((rival, agent), 1)]
    court.new_version(alice, agent)
    played.append(court.play((agent, rival), None))

    page = page_of(court.client.get(f"/agents/{agent}"))
    svg = page.by_id("rating-chart")
    assert svg.tag == "svg" and svg.attrs["role"] == "img"
    assert svg.attrs["aria-labelledby"] == "rating-chart-title rating-chart-desc"
    assert page.by_id("rating-chart-title").text == "Score of Climber after each ranked match"
    assert page.by_id("rating-chart-desc").text.startswith("3 ranked matches")
    line = page.all("path", class_="chart-line")[0].attrs["d"]
    assert len(re.findall(r"[\d.]+,[\d.]+", line)) == 3
    assert [t.text for t in page.all("text", class_="chart-label") if t.text == "v2"] == ["v2"]
    rows = [r.text for r in page.all("tr") if "→" in r.text and r.text[:4].isdigit()]
    assert len(rows) == 3
    for row, match_id in zip(rows, reversed(played), strict=True):  # newest first
        mine = next(c for c in _changes(court, match_id) if c.agent_id == agent)
        before = mine.mu_before - 3 * mine.sigma_before
        after = mine.mu_after - 3 * mine.sigma_after
        assert match_id in row and "Rival" in row
        assert row.endswith(f"{before:.2f} → {after:.2f}")
    assert [r.split()[5] for r in rows] == ["draw", "win", "win"]
    assert [r.split()[3] for r in rows] == ["2", "1", "1"]  # the version


def test_an_agent_without_ranked_matches_has_no_chart(court: Court, alice: Account) -> None:
    agent, _ = court.ready(alice, "Newbie")
    page = page_of(court.client.get(f"/agents/{agent}"))
    assert page.all("svg", id="rating-chart") == []
    assert "No ranked matches yet" in page.text


def test_the_match_page_shows_each_players_rating_change(
    court: Court, alice: Account, bob: Account
) -> None:
    a, _ = court.ready(alice, "Winner")
    b, _ = court.ready(bob, "Loser")
    match_id = court.play((a, b), 0)
    page = page_of(court.client.get(f"/matches/{match_id}"))
    cells = page.all("td", class_="rating-change")
    changes = _changes(court, match_id)
    assert len(cells) == len(changes) == 2
    for cell, change in zip(cells, changes, strict=True):
        before = change.mu_before - 3 * change.sigma_before
        after = change.mu_after - 3 * change.sigma_after
        assert cell.text.startswith(f"{before:.2f} → {after:.2f} ({after - before:+.2f})")
        assert f"μ {change.mu_before:.2f} → {change.mu_after:.2f}" in cell.text
    assert cells[0].text.split()[3].startswith("(+") and cells[1].text.split()[3].startswith("(-")
    scrimmage = court.play((a, b), 1, ranked=False)
    plain = page_of(court.client.get(f"/matches/{scrimmage}"))
    assert plain.all("td", class_="rating-change") == []


def test_the_leaderboard_shows_the_rank_change_since_yesterday(
    court: Court, alice: Account, bob: Account
) -> None:
    now = utcnow()
    rise, _ = court.ready(alice, "Rise")
    fall, _ = court.ready(bob, "Fall")
    new, _ = court.ready(alice, "Newcomer")
    for hours in (50, 49, 48):
        court.play((fall, rise), 0, at=now - timedelta(hours=hours))
    for minutes in range(6):
        court.play((rise, fall), 0, at=now - timedelta(hours=3, minutes=-minutes))
    court.play((new, fall), 0, at=now - timedelta(hours=1))

    page = page_of(court.client.get("/games/connectx"))
    assert "Δ 24h" in page.text
    changes = {}
    for row in page.all("tr")[1:]:
        name = row.text.split()[1]
        changes[name] = page_cell(row.text)
    # Then: Fall 1, Newcomer 2 (unrated), Rise 3; now Rise 1, Newcomer 2, Fall 3.
    assert changes == {"Rise": "▲2 up 2", "Fall": "▼2 down 2", "Newcomer": "new"}
    down = [e for e in page.all("span", class_="visually-hidden") if e.text == "down 2"]
    assert len(down) == 1


def page_cell(row_text: str) -> str:
    """The last cell of a leaderboard row's text: its rank change."""
    for marker in ("▲", "▼", "\u2013", "new"):
        if marker in row_text:
            return row_text[row_text.index(marker) :]
    raise AssertionError(row_text)
