"""The match pages through the real app on both databases: a match's players, result, status
history and replay text agree with the API; agents' logs for their owners and admins only, and
the rerun command for whoever may re-run it; the list of matches with its filters and pages;
404s."""

from __future__ import annotations

from fastapi.testclient import TestClient

from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account, MakeUser
from support.match_pages import finished_match, ready_agent
from support.pages import page_of, sign_in


def _match(
    client: TestClient,
    factory: SessionFactory,
    settings: Settings,
    admin: Account,
    alice: Account,
    bob: Account,
) -> tuple[str, str, str]:
    red = ready_agent(client, factory, alice, "red-one")
    yellow = ready_agent(client, factory, bob, "yellow")
    logs = ("alice's secret <script>x</script>", "bob's secret")
    match = finished_match(client, factory, settings, admin, (red, yellow), logs)
    return match, red, yellow


def test_a_finished_match_shows_players_result_history_and_the_replay_as_the_api_says(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    admin: Account,
    alice: Account,
    bob: Account,
) -> None:
    match, red, yellow = _match(client, session_factory, settings, admin, alice, bob)
    api = client.get(f"/api/v1/matches/{match}").json()
    assert api["status"] == "finished" and api["winner"] == 0
    answer = client.get(f"/matches/{match}")
    assert answer.status_code == 200
    page = page_of(answer)
    assert page.all("a", href=f"/agents/{red}") and page.all("a", href=f"/agents/{yellow}")
    # The winner by the API's seat, named in the result sentence.
    result = page.by_id("result").text
    assert result.startswith("Result: red-one (Red) wins"), result
    assert page.all("p", class_="replay-result")[0].text == result
    players = page.by_id("players").text
    assert "1 red-one alice played to the end" in players
    assert "2 yellow bob played to the end" in players
    history = page.by_id("status-history").text
    assert [s for s in ("queued", "running", "finished") if s in history] == [
        "queued",
        "running",
        "finished",
    ]
    # The final board: Red's four in column 4 (X), Yellow's three in column 5 (O).
    final = page.all("pre", class_="replay-board-text")[0].text
    assert final.count("[X]") == 4 and final.count("O") == 3  # the winning line marked
    assert "Move 7" in page.text and f"/api/v1/matches/{match}/replay" in answer.text
    # No one signed in: no logs, nor any trace of them.
    assert "secret" not in answer.text and not page.all("section", id="log-0")


def test_each_owner_reads_their_own_agents_log_and_an_admin_reads_both(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    make_user: MakeUser,
    alice: Account,
    bob: Account,
) -> None:
    admin = make_user("chief", admin=True, password="chief-password")
    match, _red, _yellow = _match(client, session_factory, settings, admin, alice, bob)
    assert sign_in(client, "alice", "alice-password").status_code == 303
    answer = client.get(f"/matches/{match}")
    page = page_of(answer)
    assert "alice's secret <script>x</script>" in page.by_id("log-0").text
    assert "<script>x</script>" not in answer.text  # escaped
    assert "bob's secret" not in answer.text and not page.all("section", id="log-1")
    assert not page.all("section", id="rerun")  # bob's code is not alice's to download
    # The API's rule is the same.
    assert client.get(f"/api/v1/matches/{match}/logs/1", headers=alice.headers).status_code == 403
    client.cookies.clear()
    assert sign_in(client, "chief", "chief-password").status_code == 303
    both = page_of(client.get(f"/matches/{match}"))
    assert "alice's secret" in both.by_id("log-0").text
    assert "bob's secret" in both.by_id("log-1").text
    assert f"botarena rerun {match}" in both.by_id("rerun").text


def test_unknown_matches_and_pages_are_404_pages(client: TestClient) -> None:
    answer = client.get("/matches/mat_nosuch")
    assert answer.status_code == 404
    assert "not found" in page_of(answer).text
    assert client.get("/matches?page=3").status_code == 404
    assert client.get("/live/matches/mat_nosuch").status_code == 404


def test_a_queued_match_shows_its_status_and_listens_for_changes(
    client: TestClient,
    session_factory: SessionFactory,
    admin: Account,
    alice: Account,
) -> None:
    one = ready_agent(client, session_factory, alice, "one")
    two = ready_agent(client, session_factory, alice, "two")
    created = client.post(
        "/api/v1/matches", json={"agent1Id": one, "agent2Id": two}, headers=alice.headers
    )
    match = created.json()["id"]
    page = page_of(client.get(f"/matches/{match}"))
    assert "Not finished yet: the match is queued." in page.by_id("result").text
    assert "position 1 in the match queue" in page.by_id("match-status").text
    assert page.by_id("match-live").attrs["sse-connect"] == f"/live/matches/{match}"
    assert not page.all("section", class_="replay")
    # htmx asks for the status block alone.
    block = client.get(f"/matches/{match}", headers={"HX-Request": "true"}).text
    assert "Status:" in block and "<html" not in block


def test_the_list_filters_by_game_agent_status_and_ranked(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    admin: Account,
    alice: Account,
    bob: Account,
) -> None:
    ranked, red, _yellow = _match(client, session_factory, settings, admin, alice, bob)
    other = ready_agent(client, session_factory, alice, "other")
    queued = client.post(
        "/api/v1/matches", json={"agent1Id": red, "agent2Id": other}, headers=alice.headers
    ).json()["id"]

    def listed(query: str) -> set[str]:
        answer = client.get(f"/matches{query}")
        assert answer.status_code == 200, answer.text
        return {
            a.attrs["href"].removeprefix("/matches/")
            for a in page_of(answer).all("a")
            if a.attrs.get("href", "").startswith("/matches/mat")
        }

    assert listed("") == {ranked, queued}
    assert listed("?status=finished") == {ranked}
    assert listed("?status=queued&ranked=no") == {queued}
    assert listed("?ranked=yes") == {ranked}
    assert listed(f"?agent={other}") == {queued}
    assert listed("?game=connectx&ranked=yes&status=finished") == {ranked}
    assert listed("?game=tictactoe") == set()
    page = page_of(client.get("/matches?status=queued"))
    assert page.all("option", value="queued", selected="")  # the form keeps its filters
    for bad in ("?status=winning", "?game=chess", "?ranked=maybe"):
        assert client.get(f"/matches{bad}").status_code == 400
