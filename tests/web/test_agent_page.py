"""An agent's page through the real app on both databases: rating, submissions, head to
head, recent matches; the owner's forms, CSRF-checked, with errors beside them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.agents.status import SubmissionStatus
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_url
from support.competitors import pretend_built
from support.pages import page_of, play_ranked, sign_in


def test_the_page_shows_rating_submissions_head_to_head_and_matches(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    bob: Account,
    admin: Account,
) -> None:
    strong, sub = pretend_built(client, session_factory, alice, "strong")
    weak, _ = pretend_built(client, session_factory, bob, "weak")
    match = play_ranked(client, session_factory, settings, admin, (strong, weak), 0)
    answer = client.get(f"/agents/{strong}")
    assert answer.status_code == 200
    page = page_of(answer)
    assert page.all("h1")[0].text == "strong"
    assert "ConnectX agent of alice" in page.text
    rating = page.by_id("rating").text
    assert rating.startswith("Rank 1 Score") and "Games 1 W/L/D 1/0/0" in rating
    assert page.all("a", href=f"/submissions/{sub}")
    assert "active" in page.by_id("submissions").text
    assert page.by_id("head-to-head").text.endswith("weak 1 1 0 0")
    assert page.all("a", href=f"/matches/{match}")
    # Anonymous: no actions.
    assert page.all("form", method="post", action=f"/submissions/{sub}/deactivate") == []


def test_an_unknown_agent_is_a_404_page(client: TestClient) -> None:
    answer = client.get("/agents/agt_nosuch")
    assert answer.status_code == 404
    assert "Agent not found" in page_of(answer).text


def test_the_owner_activates_and_an_error_shows_beside_the_form(
    client: TestClient, session_factory: SessionFactory, alice: Account
) -> None:
    agent, first = pretend_built(client, session_factory, alice, "mine", status="success")
    second = submit_url(client, alice, agent)  # pending: cannot be activated
    assert sign_in(client, "alice", "alice-password").status_code == 303
    page = page_of(client.get(f"/agents/{agent}"))
    token = page.csrf()
    assert page.all("form", action=f"/submissions/{first}/activate")
    done = client.post(
        f"/submissions/{first}/activate", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"/agents/{agent}"
    refused = client.post(f"/submissions/{second}/activate", data={"csrf_token": token})
    assert refused.status_code == 409
    error = page_of(refused).by_id(f"error-{second}").text
    assert "pending" in error
    with session_factory() as session:
        rows = {s: session.get(Submission, s) for s in (first, second)}
        assert rows[first] is not None and rows[first].status == "active"
        assert rows[second] is not None and rows[second].status == "pending"


def test_a_form_without_its_csrf_token_changes_nothing(
    client: TestClient, session_factory: SessionFactory, alice: Account, bob: Account
) -> None:
    agent, sub = pretend_built(client, session_factory, alice, "guarded", status="success")
    assert sign_in(client, "alice", "alice-password").status_code == 303
    for action in ("activate", "rebuild"):
        answer = client.post(f"/submissions/{sub}/{action}", data={})
        assert answer.status_code == 403
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None and row.status == "success"
    assert agent


def test_the_status_history_of_every_submission_reads_newest_first(
    client: TestClient, session_factory: SessionFactory, alice: Account
) -> None:
    agent = create_agent(client, alice, "storied")
    first = submit_url(client, alice, agent)
    with session_factory() as session:
        row = session.get(Submission, first)
        assert row is not None
        row.move_to(SubmissionStatus.BUILDING)
        row.move_to(SubmissionStatus.BUILD_FAILED, reason="dependencies_failed: no such package")
        session.commit()
    second = submit_url(client, alice, agent)
    page = page_of(client.get(f"/agents/{agent}"))
    text = page.by_id("timeline").text
    expected = [
        "submission 2 pending",
        "submission 1 build_failed dependencies_failed: no such package",
        "submission 1 building",
        "submission 1 pending",
    ]
    places = [text.find(entry) for entry in expected]
    assert -1 not in places and places == sorted(places), text
    assert page.all("a", href=f"/submissions/{second}") and text.count("submission") == 4
