"""The front page and the leaderboards, through the real app on both databases."""

from __future__ import annotations

import gzip
import re

import pytest
from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory
from botarena.settings import Settings
from botarena.web import views
from botarena.web.templating import STATIC_DIR

from support.accounts import Account
from support.api import create_agent, submit_url
from support.competitors import pretend_built
from support.pages import Element, Page, page_of, parse, play_ranked


@pytest.fixture
def ranked(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    bob: Account,
    admin: Account,
) -> dict[str, str]:
    """Three connectx agents: strong won its four matches, middle beat weak once."""
    agents = {
        name: pretend_built(client, session_factory, owner, name)[0]
        for name, owner in (("strong", alice), ("middle", bob), ("weak", bob))
    }
    for pair, winner in (
        (("strong", "middle"), 0),
        (("strong", "weak"), 0),
        (("middle", "weak"), 0),
        (("weak", "strong"), 1),
        (("middle", "strong"), 1),
    ):
        ids = (agents[pair[0]], agents[pair[1]])
        play_ranked(client, session_factory, settings, admin, ids, winner)
    return agents


def _board_names(html: str) -> list[str]:
    page = parse(html)
    rows = page.all("tbody")
    assert len(rows) == 1
    return [a.text for a in page.all("a") if a.attrs.get("href", "").startswith("/agents/")]


def test_the_front_page_shows_each_game_its_top_recent_matches_and_the_queues(
    client: TestClient, ranked: dict[str, str], session_factory: SessionFactory, alice: Account
) -> None:
    waiting = submit_url(client, alice, create_agent(client, alice, "waiting"))
    answer = client.get("/")
    assert answer.status_code == 200
    page = page_of(answer)
    assert [h.text for h in page.all("h3")] == [
        "ConnectX",
        "Hungry Geese",
        "Rock, paper, scissors",
        "Tic-tac-toe",
    ]
    counters = page.by_id("counters").text
    # One build waits (the submission just made); the five matches all finished.
    assert counters == "Builds queued 1 Building 0 Matches queued 0 Matches running 0"
    tops = page.by_id("tops")
    assert tops.text.index("strong") < tops.text.index("middle") < tops.text.index("weak")
    recent = page.by_id("recent").text
    assert recent.count("finished") == 5 and "strong vs middle" in recent
    with session_factory() as session:
        row = session.get(Submission, waiting)
        assert row is not None and row.status == "pending"
    # The live blocks are named for htmx's SSE extension, on a stream of this server.
    assert page.all("div", **{"sse-connect": "/live/home"})
    assert {e.attrs["sse-swap"] for e in page.elements if "sse-swap" in e.attrs} == {
        "counters",
        "tops",
        "recent",
    }


def test_the_leaderboard_lists_rank_owner_and_record(
    client: TestClient, ranked: dict[str, str]
) -> None:
    answer = client.get("/games/connectx")
    assert answer.status_code == 200
    page = page_of(answer)
    assert page.all("h1")[0].text == "ConnectX leaderboard"
    headers = [th.text.strip().rstrip("▲▼ ") for th in page.all("th")]
    assert headers == [
        "Rank", "Agent", "Owner", "Team", "μ", "σ", "Score", "Games", "W", "L", "D",  # noqa: RUF001
        "Last match", "Δ 24h",
    ]  # fmt: skip
    cells = [[td.text.strip() for td in row] for row in _rows(page)]
    assert [row[:3] for row in cells] == [["1", "strong", "alice"], ["2", "middle", "bob"],
                                          ["3", "weak", "bob"]]  # fmt: skip
    assert [row[3] for row in cells] == ["alice", "bob", "bob"]  # their one-person teams
    assert [row[7:11] for row in cells] == [["4", "4", "0", "0"], ["3", "1", "2", "0"],
                                            ["3", "0", "3", "0"]]  # fmt: skip
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row[11]) for row in cells)
    assert page.all("th", **{"aria-sort": "ascending"})[0].text.strip().startswith("Rank")


def _rows(page: Page) -> list[list[Element]]:
    """The board's rows, each its thirteen cells."""
    tds = page.all("td")
    return [tds[i : i + 13] for i in range(0, len(tds), 13)]


@pytest.mark.parametrize(
    ("sort", "names"),
    [
        ("rank", ["strong", "middle", "weak"]),
        ("-rank", ["weak", "middle", "strong"]),
        ("agent", ["middle", "strong", "weak"]),
        ("-games", ["strong", "middle", "weak"]),
        ("games", ["middle", "weak", "strong"]),  # ties keep the board's order
        ("losses", ["strong", "middle", "weak"]),
        ("-owner", ["middle", "weak", "strong"]),
    ],
)
def test_the_leaderboard_sorts_by_a_column(
    client: TestClient, ranked: dict[str, str], sort: str, names: list[str]
) -> None:
    answer = client.get("/games/connectx", params={"sort": sort})
    assert answer.status_code == 200
    assert _board_names(answer.text) == names


def test_the_header_links_sort_and_say_how(client: TestClient, ranked: dict[str, str]) -> None:
    page = page_of(client.get("/games/connectx", params={"sort": "-mu"}))
    links = {a.text.strip().rstrip("▲▼ "): a.attrs["href"] for a in page.all("a") if
             a.attrs.get("href", "").startswith("/games/connectx?")}  # fmt: skip
    assert links["μ"] == "/games/connectx?sort=mu"  # the current column, the other way
    assert links["Games"] == "/games/connectx?sort=-games"  # most first
    assert links["Agent"] == "/games/connectx?sort=agent"
    assert [th.attrs["aria-sort"] for th in page.all("th") if th.attrs["aria-sort"] != "none"] == [
        "descending"
    ]


def test_the_leaderboard_is_paged(
    client: TestClient, ranked: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    first = client.get("/games/connectx")
    assert _board_names(first.text) == ["strong", "middle"]
    nav = page_of(first).all("a", rel="next")
    assert [a.attrs["href"] for a in nav] == ["/games/connectx?page=2"]
    second = client.get(nav[0].attrs["href"])
    assert _board_names(second.text) == ["weak"]
    assert [a.attrs["href"] for a in page_of(second).all("a", rel="prev")] == [
        "/games/connectx?page=1"
    ]
    by_name = client.get("/games/connectx", params={"sort": "agent", "page": 2})
    assert _board_names(by_name.text) == ["weak"]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/games/chess", 404, "No game named chess"),
        ("/games/connectx?page=2", 404, "No page 2 of this leaderboard"),
        ("/games/connectx?page=0", 400, "Bad request"),
        ("/games/connectx?sort=password", 400, "Cannot sort by 'password'"),
        ("/no/such/page", 404, "Not found"),
    ],
)
def test_bad_addresses_get_an_error_page(
    client: TestClient, path: str, status: int, words: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == status
    page = page_of(answer)
    assert words in page.all("h1")[0].text
    assert page.all("nav", **{"aria-label": "Main"})  # the layout, with its way back


def test_the_api_keeps_its_json_errors(client: TestClient) -> None:
    answer = client.get("/api/v1/nope")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"


def test_htmx_gets_the_board_alone(client: TestClient, ranked: dict[str, str]) -> None:
    answer = client.get("/games/connectx", params={"sort": "agent"}, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="board"')
    assert "<html" not in answer.text and '<nav aria-label="Main"' not in answer.text
    assert _board_names(answer.text) == ["middle", "strong", "weak"]
    assert 'sse-connect="/live/games/connectx?sort=agent"' in answer.text
    assert "HX-Request" in answer.headers["vary"]


def test_pages_render_without_a_session_and_without_scripts_of_their_own(
    client: TestClient, ranked: dict[str, str]
) -> None:
    for path in ("/", "/games/connectx", "/games/rps", "/login", "/signup"):
        answer = client.get(path)
        assert answer.status_code in (200, 404)
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "private, no-cache"
        page = page_of(answer)
        scripts = page.all("script")
        assert scripts and all(s.attrs.get("src", "").startswith("/static/web/") for s in scripts)
        assert all(not s.text.strip() for s in scripts)
        handlers = [(e.tag, k) for e in page.elements for k in e.attrs if k.startswith("on")]
        assert handlers == []
        assert page.all("a", class_="skip-link")[0].attrs["href"] == "#main"
        assert page.all("main", id="main")


def test_static_files_are_versioned_and_cached_long(client: TestClient) -> None:
    page = page_of(client.get("/"))
    urls = [s.attrs["src"] for s in page.all("script")] + [
        link.attrs["href"] for link in page.all("link", rel="stylesheet")
    ]
    assert len(urls) == 4
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    path = urls[0].split("?")[0]
    assert client.get(path).headers["cache-control"] == "no-cache"
    assert client.get(f"{path}?v=0000").headers["cache-control"] == "no-cache"
    assert client.get("/static/web/../templates/base.html").status_code == 404


def test_a_page_loads_under_100_kb_of_its_own_compressed() -> None:
    names = ["vendor/htmx.min.js", "vendor/sse.min.js", "vendor/pico.min.css", "app.css"]
    total = sum(len(gzip.compress((STATIC_DIR / name).read_bytes(), 9)) for name in names)
    assert total < 100 * 1024


def test_the_menu_names_each_games_leaderboard(client: TestClient) -> None:
    page = page_of(client.get("/games/rps"))
    menu = page.all("details", class_="dropdown")[0]
    assert menu.text == "Leaderboards ConnectX Hungry Geese Rock, paper, scissors Tic-tac-toe"
    current = [a for a in page.all("a") if a.attrs.get("aria-current") == "page"]
    assert [(a.attrs["href"], a.text) for a in current] == [("/games/rps", "Rock, paper, scissors")]
