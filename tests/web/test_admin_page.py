"""The admin page through the real app on both databases: only admins see it (a signed-out
visitor is sent to sign in, anyone else gets 403), and each of its forms (users, the ladder,
build priorities, tournaments) does what the API does, audited, or comes back with the error
beside the form and nothing stored; a form without its CSRF token changes nothing."""

from __future__ import annotations

import json
import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from botarena.accounts.models import User
from botarena.accounts.service import AccountService
from botarena.agents.models import Submission
from botarena.app import create_app
from botarena.audit.models import AuditEntry
from botarena.db.engine import SessionFactory
from botarena.ladder.service import LadderService
from botarena.settings import Settings
from botarena.tournaments.models import Tournament

from support.accounts import Account, MakeUser
from support.api import create_agent, submit_url
from support.competitors import pretend_built
from support.pages import Page, page_of, sign_in

# Reads through queries (or, live, notices) no other test runs on PostgreSQL.
BOTH_DATABASES = True

PASSWORD = "boss-password"


@pytest.fixture
def boss(client: TestClient, make_user: MakeUser) -> Account:
    """An admin signed in on ``client``."""
    account = make_user("boss", admin=True, password=PASSWORD)
    assert sign_in(client, "boss", PASSWORD).status_code == 303
    return account


def _admin_page(client: TestClient) -> Page:
    answer = client.get("/admin")
    assert answer.status_code == 200, answer.text
    return page_of(answer)


def _post(client: TestClient, path: str, **fields: str) -> tuple[int, str, Page | None]:
    """POST a form of the page with the session's token: (status, location, page)."""
    token = _admin_page(client).csrf()
    answer = client.post(path, data={"csrf_token": token, **fields}, follow_redirects=False)
    if answer.status_code == 303:
        return 303, answer.headers["location"], None
    return answer.status_code, "", page_of(answer)


def _user(factory: SessionFactory, name: str) -> User | None:
    with factory() as session:
        return session.scalar(select(User).where(User.username_key == name))


def _audited(factory: SessionFactory, action: str) -> list[AuditEntry]:
    with factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# -- who may see it ----------------------------------------------------------------------
def test_a_signed_out_visitor_is_sent_to_sign_in_and_cannot_post(
    client: TestClient, session_factory: SessionFactory
) -> None:
    answer = client.get("/admin", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/admin"
    token = page_of(client.get("/login")).csrf()
    made = client.post(
        "/admin/users", data={"csrf_token": token, "username": "eve", "password": "x" * 12}
    )
    assert made.status_code == 401
    assert _user(session_factory, "eve") is None


def test_a_participant_gets_403_and_changes_nothing(
    client: TestClient, session_factory: SessionFactory, alice: Account
) -> None:
    assert sign_in(client, "alice", "alice-password").status_code == 303
    home = page_of(client.get("/"))
    assert home.all("a", href="/admin") == []  # no link in the menu
    answer = client.get("/admin")
    assert answer.status_code == 403
    assert "Only admins" in page_of(answer).text
    token = home.csrf()
    for path, fields in (
        ("/admin/users", {"username": "eve", "password": "x" * 12}),
        ("/admin/users/alice/make-admin", {}),
        ("/admin/ladder/pause", {"game": "connectx"}),
    ):
        refused = client.post(path, data={"csrf_token": token, **fields})
        assert refused.status_code == 403, path
    assert _user(session_factory, "eve") is None
    alice_row = _user(session_factory, "alice")
    assert alice_row is not None and not alice_row.is_admin
    with session_factory() as session:
        assert LadderService(session).paused().paused_games == []


def test_the_live_queues_are_for_admins_only(
    client: TestClient, make_user: MakeUser, alice: Account
) -> None:
    assert client.get("/live/admin").status_code == 401
    assert sign_in(client, "alice", "alice-password").status_code == 303
    assert client.get("/live/admin").status_code == 403


def test_the_page_has_every_section_and_the_menu_links_it(
    client: TestClient, boss: Account, alice: Account
) -> None:
    page = _admin_page(client)
    assert page.all("h1")[0].text == "Admin"
    for section in ("users", "ladder", "builds", "matches", "executors", "tournaments"):
        assert page.by_id(section).tag == "section"
    assert page.all("a", href="/admin", **{"aria-current": "page"})
    users = page.by_id("user-list").text
    assert "alice no no" in users and "boss (you) yes no" in users
    assert "ConnectX running" in page.by_id("ladders").text
    assert "No builds waiting or running." in page.by_id("builds").text
    assert "No matches queued or running." in page.by_id("matches").text
    assert "does not dispatch matches" in page.by_id("executors").text


def test_every_form_without_its_csrf_token_is_refused(
    client: TestClient, session_factory: SessionFactory, boss: Account, alice: Account
) -> None:
    for path, fields in (
        ("/admin/users", {"username": "eve", "password": "x" * 12}),
        ("/admin/users/alice/make-admin", {}),
        ("/admin/users/alice/disable", {}),
        ("/admin/ladder/pause", {"game": "connectx"}),
        ("/admin/builds/sub_x/priority", {"priority": "5"}),
        ("/admin/tournaments", {"game": "connectx", "format": "round_robin"}),
        ("/admin/tournaments/tou_x/cancel", {}),
    ):
        assert client.post(path, data=fields).status_code == 403, path
        assert client.post(path, data={**fields, "csrf_token": "forged"}).status_code == 403
    assert _user(session_factory, "eve") is None
    alice_row = _user(session_factory, "alice")
    assert alice_row is not None and not alice_row.is_admin and not alice_row.is_disabled
    with session_factory() as session:
        assert LadderService(session).paused().paused_games == []


# -- users -------------------------------------------------------------------------------
def test_an_admin_creates_a_user_audited_and_the_password_is_never_shown(
    client: TestClient, session_factory: SessionFactory, boss: Account
) -> None:
    secret = "carol-secret-words"
    status, location, _ = _post(
        client, "/admin/users", username="carol", password=secret, admin="on"
    )
    assert (status, location) == (303, "/admin#users")
    page = client.get(location)
    assert "User carol created (admin)." in page_of(page).by_id("users").text
    assert secret not in page.text
    carol = _user(session_factory, "carol")
    assert carol is not None and carol.is_admin and carol.password_hash
    assert secret not in carol.password_hash
    created = _audited(session_factory, "user.created")
    assert [(e.actor_name, e.target_id) for e in created][-1] == ("boss", carol.id)
    # The confirmation is shown once.
    assert "created" not in page_of(client.get("/admin")).by_id("users").text.split("Username")[0]


@pytest.mark.parametrize(
    ("username", "password", "field", "words", "status"),
    [
        ("c", "long-enough-password", "new-username", "2 to 32", 400),
        ("carol", "short", "new-password", "at least 8", 400),
        ("alice", "long-enough-password", "new-username", "already exists", 409),
    ],
)
def test_a_bad_new_user_comes_back_beside_its_field_and_nothing_is_stored(
    client: TestClient,
    session_factory: SessionFactory,
    boss: Account,
    alice: Account,
    username: str,
    password: str,
    field: str,
    words: str,
    status: int,
) -> None:
    got, _, page = _post(client, "/admin/users", username=username, password=password)
    assert got == status and page is not None
    assert words in page.by_id(f"{field}-error").text
    assert page.by_id(field).attrs.get("aria-invalid") == "true"
    assert page.by_id("new-username").attrs["value"] == username  # kept
    assert "value" not in page.by_id("new-password").attrs  # never sent back
    assert password not in " ".join(str(e.attrs) for e in page.elements)
    with session_factory() as session:
        assert session.scalar(select(User).where(User.username_key == "carol")) is None
        assert len(session.scalars(select(User)).all()) == 2  # boss and alice


def test_an_admin_makes_and_unmakes_an_admin_and_disables_and_enables_audited(
    client: TestClient, session_factory: SessionFactory, boss: Account, alice: Account
) -> None:
    steps = (
        ("make-admin", "is an admin now", lambda u: u.is_admin, "user.made_admin"),
        ("remove-admin", "is no longer an admin", lambda u: not u.is_admin, "user.admin_removed"),
        ("disable", "is disabled", lambda u: u.is_disabled, "user.disabled"),
        ("enable", "is enabled", lambda u: not u.is_disabled, "user.enabled"),
    )
    for action, words, holds, audited in steps:
        status, location, _ = _post(client, f"/admin/users/alice/{action}")
        assert (status, location) == (303, "/admin#users"), action
        assert f"User alice {words}." in page_of(client.get(location)).by_id("users").text
        row = _user(session_factory, "alice")
        assert row is not None and holds(row), action
        entries = _audited(session_factory, audited)
        assert [(e.actor_name, e.target_id) for e in entries] == [("boss", alice.id)], action


@pytest.mark.parametrize(
    ("action", "words"), [("remove-admin", "own admin role"), ("disable", "own account")]
)
def test_an_admin_cannot_demote_or_disable_themselves(
    client: TestClient, session_factory: SessionFactory, boss: Account, action: str, words: str
) -> None:
    status, _, page = _post(client, f"/admin/users/boss/{action}")
    assert status == 409 and page is not None
    error = page.by_id("user-boss-error").text
    assert "You cannot" in error and words in error and "another admin" in error
    row = _user(session_factory, "boss")
    assert row is not None and row.is_admin and not row.is_disabled
    assert _audited(session_factory, "user.admin_removed") == []
    assert _audited(session_factory, "user.disabled") == []


def test_an_unknown_user_build_or_tournament_is_a_404_page(
    client: TestClient, boss: Account
) -> None:
    for path, fields, words in (
        ("/admin/users/nobody/disable", {}, "No user named nobody"),
        ("/admin/builds/sub_nosuch/priority", {"priority": "1"}, "Submission not found"),
        ("/admin/tournaments/tou_nosuch/cancel", {}, "Tournament tou_nosuch not found"),
    ):
        status, _, page = _post(client, path, **fields)
        assert status == 404 and page is not None
        assert words in page.by_id("main").text


# -- the ladder --------------------------------------------------------------------------
def test_an_admin_pauses_and_resumes_a_game_and_every_game_audited(
    client: TestClient, session_factory: SessionFactory, boss: Account
) -> None:
    assert _post(client, "/admin/ladder/pause", game="connectx")[:2] == (303, "/admin#ladder")
    page = page_of(client.get("/admin"))
    assert "The connectx ladder is paused." in page.by_id("ladder").text
    assert "ConnectX paused Resume" in page.by_id("ladders").text
    with session_factory() as session:
        assert LadderService(session).paused().paused_games == ["connectx"]
    assert _post(client, "/admin/ladder/resume", game="connectx")[0] == 303
    with session_factory() as session:
        assert LadderService(session).paused().paused_games == []
    assert _post(client, "/admin/ladder/pause")[0] == 303  # every game
    with session_factory() as session:
        assert LadderService(session).paused().all_paused
    assert "every game's ladder is" in page_of(client.get("/admin")).by_id("ladders").text
    assert _post(client, "/admin/ladder/resume")[0] == 303
    with session_factory() as session:
        assert not LadderService(session).paused().all_paused
    paused = _audited(session_factory, "ladder.paused")
    assert [(e.actor_name, e.target_id) for e in paused] == [("boss", "connectx"), ("boss", "*")]
    assert len(_audited(session_factory, "ladder.resumed")) == 2


def test_pausing_an_unknown_game_is_refused_beside_the_ladder(
    client: TestClient, session_factory: SessionFactory, boss: Account
) -> None:
    status, _, page = _post(client, "/admin/ladder/pause", game="chess")
    assert status == 422 and page is not None
    assert "chess" in page.by_id("ladder-all-error").text
    assert _audited(session_factory, "ladder.paused") == []


# -- the build queue ---------------------------------------------------------------------
def test_the_build_queue_in_order_and_a_raised_priority_moves_a_build_first(
    client: TestClient, session_factory: SessionFactory, boss: Account, alice: Account
) -> None:
    first = submit_url(client, alice, create_agent(client, alice, "early"))
    second = submit_url(client, alice, create_agent(client, alice, "late"))
    rows = page_of(client.get("/admin")).by_id("build-queue").text
    assert rows.index(first) < rows.index(second)
    assert "early alice 1 pending" in rows
    status, location, _ = _post(client, f"/admin/builds/{second}/priority", priority="7")
    assert (status, location) == (303, "/admin#builds")
    page = page_of(client.get(location))
    assert f"Submission {second} has priority 7 now." in page.by_id("builds").text
    rows = page.by_id("build-queue").text
    assert rows.index(second) < rows.index(first)
    assert page.by_id(f"priority-{second}").attrs["value"] == "7"
    with session_factory() as session:
        row = session.get(Submission, second)
        assert row is not None and row.priority == 7
    entry = _audited(session_factory, "submission.priority_changed")[-1]
    assert entry.actor_name == "boss" and json.loads(entry.details) == {"from": 0, "to": 7}


@pytest.mark.parametrize(
    ("value", "words"),
    [("high", "whole number"), ("1001", "less than or equal to 1000"), ("", "whole number")],
)
def test_a_bad_priority_comes_back_beside_its_build_and_nothing_changes(
    client: TestClient,
    session_factory: SessionFactory,
    boss: Account,
    alice: Account,
    value: str,
    words: str,
) -> None:
    sub = submit_url(client, alice, create_agent(client, alice, "queued"))
    status, _, page = _post(client, f"/admin/builds/{sub}/priority", priority=value)
    assert status == 422 and page is not None
    assert words in page.by_id(f"priority-{sub}-error").text
    assert page.by_id(f"priority-{sub}").attrs.get("aria-invalid") == "true"
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None and row.priority == 0
    assert _audited(session_factory, "submission.priority_changed") == []


# -- the match queue and the executors ---------------------------------------------------
def test_the_match_queue_shows_queued_matches_with_players_and_origin(
    client: TestClient,
    session_factory: SessionFactory,
    boss: Account,
    alice: Account,
    admin: Account,
) -> None:
    one, _ = pretend_built(client, session_factory, alice, "one")
    two, _ = pretend_built(client, session_factory, alice, "two")
    body = {"agent1Id": one, "agent2Id": two, "ranked": True}
    created = client.post("/api/v1/matches", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    match_id = created.json()["id"]
    page = _admin_page(client)
    queue = page.by_id("match-queue")
    assert f"{match_id} connectx one vs two yes created by root queued" in queue.text
    assert page.all("a", href=f"/matches/{match_id}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("executors", "expected"),
    [
        # Nothing listens there: the dispatcher's health check fails and the page says so.
        (("127.0.0.1:9",), re.compile(r"127\.0\.0\.1:9 remote no — — — \S+ \S+ .*127\.0\.0\.1:9")),
        # This server's own executor, on its socket: it answers, with its slots.
        ((), re.compile(r"unix:\S+ embedded yes 0 / 1 1 ")),
    ],
    ids=["unreachable", "embedded"],
)
def test_the_executors_as_the_dispatcher_last_heard_them(
    settings: Settings, executors: tuple[str, ...], expected: re.Pattern[str]
) -> None:
    live = settings.model_copy(
        update={"matches_enabled": True, "executors": executors, "executor_capacity": 1}
    )
    with TestClient(create_app(live)) as client:
        factory: SessionFactory = client.app.state.session_factory  # type: ignore[attr-defined]
        with factory() as session:
            AccountService(session).create_user("boss", PASSWORD, admin=True)
        assert sign_in(client, "boss", PASSWORD).status_code == 303
        deadline = time.monotonic() + 15
        text = ""
        while not expected.search(text) and time.monotonic() < deadline:
            time.sleep(0.2)
            text = _admin_page(client).by_id("executor-list").text
        assert expected.search(text), text


# -- tournaments -------------------------------------------------------------------------
def test_an_admin_creates_a_round_robin_sees_it_listed_and_cancels_it(
    client: TestClient, session_factory: SessionFactory, boss: Account, alice: Account
) -> None:
    for name in ("red", "blue", "green"):
        pretend_built(client, session_factory, alice, name)
    status, location, _ = _post(
        client, "/admin/tournaments", game="connectx", format="round_robin", games_per_pairing="1"
    )
    assert (status, location) == (303, "/admin#tournaments")
    with session_factory() as session:
        tournament = session.scalars(select(Tournament)).one()
        tid = tournament.id
        assert tournament.format == "round_robin" and len(tournament.entrants) == 3
    page = page_of(client.get(location))
    assert f"Tournament {tid} started: 1 match queued." in page.by_id("tournaments").text
    assert page.all("a", href=f"/tournaments/{tid}")
    assert f"{tid} connectx round robin running 1 / 3 3" in page.by_id("tournament-list").text
    assert _audited(session_factory, "tournament.created")[-1].actor_name == "boss"
    status, _, _ = _post(client, f"/admin/tournaments/{tid}/cancel")
    assert status == 303
    with session_factory() as session:
        row = session.get(Tournament, tid)
        assert row is not None and row.status == "cancelled"
    assert _audited(session_factory, "tournament.cancelled")[-1].target_id == tid
    # Cancelled already: the error comes back beside the tournament.
    refused = client.post(
        f"/admin/tournaments/{tid}/cancel", data={"csrf_token": _admin_page(client).csrf()}
    )
    assert refused.status_code == 409
    assert "cancelled already" in page_of(refused).by_id(f"cancel-{tid}-error").text


@pytest.mark.parametrize(
    ("fields", "error_id", "words", "status"),
    [
        ({"format": "round_robin", "rounds": "3"}, "t-rounds", "swiss tournaments only", 422),
        ({"format": "swiss", "rounds": "0"}, "t-rounds", "greater than or equal to 1", 422),
        ({"format": "round_robin", "games_per_pairing": "two"}, "t-games", "whole number", 422),
        ({"format": "round_robin", "games_per_pairing": "16"}, "t-games", "15", 422),
        ({"format": "knockout"}, "t-format", "round_robin", 422),
        ({"format": "round_robin", "game": "chess"}, "t-game", "chess", 422),
        ({"format": "round_robin", "game": "tictactoe"}, "tournament", "at least 2", 409),
    ],
)
def test_a_bad_tournament_comes_back_beside_its_field_and_nothing_is_stored(
    client: TestClient,
    session_factory: SessionFactory,
    boss: Account,
    alice: Account,
    fields: dict[str, str],
    error_id: str,
    words: str,
    status: int,
) -> None:
    for name in ("red", "blue"):
        pretend_built(client, session_factory, alice, name)
    sent = {"game": "connectx", "games_per_pairing": "1", **fields}
    got, _, page = _post(client, "/admin/tournaments", **sent)
    assert got == status and page is not None
    assert words in page.by_id(f"{error_id}-error").text
    if "rounds" in fields:
        assert page.by_id("t-rounds").attrs["value"] == fields["rounds"]  # kept
    with session_factory() as session:
        assert session.scalars(select(Tournament)).all() == []
    assert _audited(session_factory, "tournament.created") == []
