"""A submission's build page through the real app on both databases: status, history,
failure advice, and the build log for the owner and admins only, shown as text."""

from __future__ import annotations

from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.builds.validation import keep_validation
from botarena.db.engine import SessionFactory
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.games.registry import get_game
from botarena.settings import Settings
from botarena.storage import validation_match_path

from support.accounts import Account, MakeUser
from support.api import create_agent, submit_url
from support.competitors import pretend_built
from support.match_pages import RED_WINS
from support.pages import page_of, parse, sign_in
from support.replays import record

CODE_URL = "https://git.example.com/secret/repo"
HOSTILE = "<script>alert('log')</script> \x1b[31;1mred\x1b[0m done\x1b]0;title\x07"


def _failed(factory: SessionFactory, sub_id: str, log: str, error: str | None) -> None:
    with factory() as session:
        row = session.get(Submission, sub_id)
        assert row is not None
        row.status, row.build_log, row.error_message = "build_failed", log, error
        session.commit()


def test_the_owner_sees_the_build_its_failure_advice_and_the_log_as_text(
    client: TestClient, session_factory: SessionFactory, alice: Account
) -> None:
    agent = create_agent(client, alice, "mine")
    sub = submit_url(client, alice, agent, CODE_URL)
    error = "dependencies_failed: pip could not install nosuchpackage"
    _failed(session_factory, sub, f"Collecting nosuchpackage\n{HOSTILE}\n", error)
    assert sign_in(client, "alice", "alice-password").status_code == 303
    answer = client.get(f"/submissions/{sub}")
    assert answer.status_code == 200
    assert "<script>alert" not in answer.text and "\x1b" not in answer.text
    page = page_of(answer)
    status = page.by_id("build-status").text
    assert status.startswith("Status: build_failed")
    assert "pip could not install nosuchpackage" in status and "requirements.txt" in status
    assert "pending" in status  # the history: submitted as pending
    log = page.by_id("build-log").text
    assert log == "Collecting nosuchpackage <script>alert('log')</script> red done"
    assert CODE_URL in page.text
    assert [s for s in page.all("script") if not s.attrs.get("src")] == []
    # A finished build has no live stream.
    assert not [e for e in page.elements if "sse-connect" in e.attrs]


def test_others_and_anonymous_see_neither_the_log_nor_the_code_url(
    client: TestClient, session_factory: SessionFactory, alice: Account, make_user: MakeUser
) -> None:
    agent = create_agent(client, alice, "private")
    sub = submit_url(client, alice, agent, CODE_URL)
    _failed(session_factory, sub, "SECRET-LOG-LINE\n", "fetch_failed: the repository was not found")
    anonymous = page_of(client.get(f"/submissions/{sub}"))
    make_user("carol", password="carol-password")
    assert sign_in(client, "carol", "carol-password").status_code == 303
    carols = page_of(client.get(f"/submissions/{sub}"))
    for page in (anonymous, carols):
        assert "SECRET-LOG-LINE" not in page.text and CODE_URL not in page.text
        assert "Only the agent's team and admins see its build log." in page.text
        assert "public and reachable" in page.by_id("build-status").text
    # The status block alone, for htmx: no log there either.
    fragment = client.get(f"/submissions/{sub}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "SECRET-LOG-LINE" not in fragment.text
    assert parse(fragment.text).text.startswith("Status: build_failed")


def test_an_admin_reads_the_log(
    client: TestClient, session_factory: SessionFactory, alice: Account, make_user: MakeUser
) -> None:
    agent = create_agent(client, alice, "watched")
    sub = submit_url(client, alice, agent, CODE_URL)
    _failed(session_factory, sub, "ADMIN-SEES-THIS\n", "internal: the builder crashed")
    make_user("boss", admin=True, password="boss-password")
    assert sign_in(client, "boss", "boss-password").status_code == 303
    page = page_of(client.get(f"/submissions/{sub}"))
    assert "ADMIN-SEES-THIS" in page.by_id("build-log").text
    assert "Rebuild" in page.by_id("build-status").text


def test_a_pending_build_shows_its_queue_position_and_its_live_stream(
    client: TestClient, alice: Account
) -> None:
    first = submit_url(client, alice, create_agent(client, alice, "first"))
    second = submit_url(client, alice, create_agent(client, alice, "second"))
    assert first != second
    assert sign_in(client, "alice", "alice-password").status_code == 303
    page = page_of(client.get(f"/submissions/{second}"))
    position = client.get(f"/api/v1/submissions/{second}/build-status").json()["queuePosition"]
    assert f"position {position} in the build queue" in page.by_id("build-status").text
    (wrapper,) = [e for e in page.elements if "sse-connect" in e.attrs]
    assert wrapper.attrs["sse-connect"].startswith(f"/live/submissions/{second}?after=")
    assert wrapper.attrs["sse-close"] == "done"
    assert page.by_id("build-log").attrs["sse-swap"] == "log"


def test_an_unknown_submission_is_a_404_page(client: TestClient) -> None:
    answer = client.get("/submissions/sub_nosuch")
    assert answer.status_code == 404
    assert "Submission not found" in page_of(answer).text


def test_a_built_submission_shows_its_scan_warnings(
    client: TestClient, session_factory: SessionFactory, alice: Account
) -> None:
    _agent, sub = pretend_built(client, session_factory, alice, "scanned", status="success")
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.artifact = '{"warnings": ["<b>CVE-1</b> in somepackage"]}'
        session.commit()
    answer = client.get(f"/submissions/{sub}")
    assert "<b>CVE-1</b>" not in answer.text
    assert "<b>CVE-1</b> in somepackage" in page_of(answer).by_id("build-status").text


def _validated(settings: Settings, sub: str, log: str) -> None:
    """The validation match a build would keep: red wins, both seats played to the end."""
    replay = record(get_game("connectx"), RED_WINS)
    outcomes = [AgentOutcome(log=log), AgentOutcome(log="")]
    result = MatchResult(MatchStatus.FINISHED, 0, [1.0, -1.0], outcomes, 7, 420, replay)
    keep_validation(validation_match_path(settings, sub), result)


def test_the_validation_match_shows_its_seats_and_for_the_owner_its_replay_and_log(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    make_user: MakeUser,
) -> None:
    _agent, sub = pretend_built(client, session_factory, alice, "validated", status="success")
    _validated(settings, sub, f"thinking hard\n{HOSTILE}\n")
    anonymous = page_of(client.get(f"/submissions/{sub}"))
    section = anonymous.by_id("validation").text
    assert "7 turns in 0.4 s" in section and "played to the end" in section
    assert "thinking hard" not in anonymous.text and "data-replay" not in str(anonymous.elements)
    assert sign_in(client, "alice", "alice-password").status_code == 303
    answer = client.get(f"/submissions/{sub}")
    assert "<script>alert" not in answer.text
    owners = page_of(answer)
    assert "thinking hard <script>alert('log')</script> red done" in owners.by_id("validation").text
    [viewer] = [e for e in owners.elements if "data-replay" in e.attrs]
    assert "data-replay-download" not in viewer.attrs
    assert "/static/web/replay/player.js" in answer.text
    # While it builds again, what is on disk is not this build's.
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.status = "pending"
        session.commit()
    assert "Validation match" not in client.get(f"/submissions/{sub}").text
