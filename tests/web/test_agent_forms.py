"""The participant's forms through the real app on both databases: a new agent, a new
submission as an archive, a folder or a Git URL, and a challenge; every refusal comes back
next to its field with nothing stored, and the API's 401/403 and the CSRF check hold."""

from __future__ import annotations

import io
import tarfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from botarena.agents.models import Agent, Submission
from botarena.db.engine import SessionFactory
from botarena.matches.models import Match
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, zip_files
from support.competitors import pretend_built
from support.pages import page_of, sign_in

# Reads through queries (or, live, notices) no other test runs on PostgreSQL.
BOTH_DATABASES = True

MAIN = b"def agent(obs, conf):\n    return 0\n"
QUOTA = 2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"scrimmage_quota": QUOTA})


def _count(factory: SessionFactory, model: type[Agent] | type[Submission] | type[Match]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _token(client: TestClient, path: str) -> str:
    return page_of(client.get(path)).csrf()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _stored_names(factory: SessionFactory, settings: Settings, sub_id: str) -> list[str]:
    """The member names of the archive a submission stored."""
    with factory() as session:
        row = session.get(Submission, sub_id)
        assert row is not None and row.archive_sha256 and row.archive_format
        sha, fmt = row.archive_sha256, row.archive_format
    path = settings.archive_dir / sha[:2] / f"{sha}.{fmt}"
    with tarfile.open(path, "r:gz") as tar:
        return sorted(member.name for member in tar.getmembers())


# -- a new agent ----------------------------------------------------------------------------


def test_a_signed_in_participant_creates_an_agent_from_the_leaderboard(
    client: TestClient, session_factory: SessionFactory, alice: Account
) -> None:
    signed_out = page_of(client.get("/games/connectx"))
    assert signed_out.all("a", href="/login?next=/agents/new%3Fgame%3Dconnectx")
    assert sign_in(client, "alice", "alice-password").status_code == 303
    board = page_of(client.get("/games/connectx"))
    assert board.all("a", href="/agents/new?game=connectx")
    form = page_of(client.get("/agents/new?game=connectx"))
    chosen = [e for e in form.all("option") if "selected" in e.attrs]
    assert [e.attrs["value"] for e in chosen] == ["connectx"]
    made = client.post(
        "/agents/new",
        data={"csrf_token": form.csrf(), "name": "deep-blue", "game": "connectx"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    agent_id = made.headers["location"].removeprefix("/agents/")
    api = client.get(f"/api/v1/agents/{agent_id}").json()
    assert (api["name"], api["game"], api["ownerId"]) == ("deep-blue", "connectx", alice.id)
    mine = page_of(client.get(made.headers["location"]))
    assert mine.all("h1")[0].text == "deep-blue"
    assert mine.by_id("new-submission") and mine.by_id("challenge")


@pytest.mark.parametrize(
    ("name", "game", "status", "field", "says"),
    [
        ("-bad name", "connectx", 422, "name", "Agent name must be"),
        ("taken", "connectx", 409, "name", "already taken"),
        ("fine", "chess", 422, "game", "Unknown game"),
    ],
)
def test_a_refused_agent_comes_back_with_the_error_beside_its_field(
    client: TestClient,
    session_factory: SessionFactory,
    alice: Account,
    bob: Account,
    name: str,
    game: str,
    status: int,
    field: str,
    says: str,
) -> None:
    create_agent(client, bob, "taken")
    assert sign_in(client, "alice", "alice-password").status_code == 303
    data = {"csrf_token": _token(client, "/agents/new"), "name": name, "game": game}
    refused = client.post("/agents/new", data=data)
    assert refused.status_code == status
    page = page_of(refused)
    assert says in page.by_id(f"{field}-error").text
    assert page.all("input", name="name")[0].attrs["value"] == name
    assert _count(session_factory, Agent) == 1


def test_signed_out_the_form_asks_to_sign_in_and_a_post_is_refused(
    client: TestClient, session_factory: SessionFactory
) -> None:
    asked = client.get("/agents/new?game=rps", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=%2Fagents%2Fnew%3Fgame%3Drps"
    token = _token(client, "/login")
    refused = client.post("/agents/new", data={"csrf_token": token, "name": "x", "game": "rps"})
    assert refused.status_code == 401
    forged = client.post("/agents/new", data={"name": "x", "game": "rps"})
    assert forged.status_code == 403
    assert _count(session_factory, Agent) == 0


# -- a new submission -----------------------------------------------------------------------


def _own_agent(client: TestClient, alice: Account) -> tuple[str, str]:
    """Alice's agent, Alice signed in, and the page's CSRF token."""
    agent = create_agent(client, alice, "mine")
    assert sign_in(client, "alice", "alice-password").status_code == 303
    return agent, _token(client, f"/agents/{agent}")


@pytest.mark.parametrize(
    ("filename", "data", "fmt"),
    [
        ("bot.zip", zip_files({"main.py": MAIN}), "zip"),
        ("bot.tar.gz", _tar_gz({"main.py": MAIN}), "tar.gz"),
    ],
)
def test_an_uploaded_archive_becomes_a_submission_and_leads_to_its_build(
    client: TestClient,
    session_factory: SessionFactory,
    alice: Account,
    filename: str,
    data: bytes,
    fmt: str,
) -> None:
    agent, token = _own_agent(client, alice)
    done = client.post(
        f"/agents/{agent}/submissions",
        data={"csrf_token": token, "source": "archive"},
        files={"archive": (filename, data, "application/octet-stream")},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    sub = done.headers["location"].removeprefix("/submissions/")
    with session_factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        assert (row.agent_id, row.status, row.archive_format) == (agent, "pending", fmt)
    assert page_of(client.get(done.headers["location"])).all("h1")


def test_a_folder_is_packed_without_its_top_folder_and_caches(
    client: TestClient, session_factory: SessionFactory, settings: Settings, alice: Account
) -> None:
    agent, token = _own_agent(client, alice)
    sent = [
        ("folder", ("bot/main.py", MAIN, "text/x-python")),
        ("folder", ("bot/lib/util.py", b"X = 1\n", "text/x-python")),
        ("folder", ("bot/__pycache__/main.cpython-313.pyc", b"\0", "application/octet-stream")),
        ("folder", ("bot/.git/HEAD", b"ref: refs/heads/main\n", "text/plain")),
    ]
    done = client.post(
        f"/agents/{agent}/submissions",
        data={"csrf_token": token, "source": "folder"},
        files=sent,
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    sub = done.headers["location"].removeprefix("/submissions/")
    assert _stored_names(session_factory, settings, sub) == ["lib/util.py", "main.py"]


@pytest.mark.parametrize(
    ("names", "says"),
    [
        (["bot/main.py", "/etc/passwd"], "absolute path"),
        (["bot/main.py", "bot/../../evil.py"], "escapes"),
        (["bot/main.py", "other/util.py"], "one folder"),
        (["main.py"], "not inside a folder"),
        (["bot/main.py", "bot/main.py"], "sent twice"),
        ([], "no files"),
    ],
)
def test_a_refused_folder_stores_nothing(
    client: TestClient,
    session_factory: SessionFactory,
    settings: Settings,
    alice: Account,
    names: list[str],
    says: str,
) -> None:
    agent, token = _own_agent(client, alice)
    sent = [("folder", (name, MAIN, "text/x-python")) for name in names]
    refused = client.post(
        f"/agents/{agent}/submissions",
        data={"csrf_token": token, "source": "folder"},
        files=sent or None,
    )
    assert refused.status_code == 400
    page = page_of(refused)
    assert says in page.by_id("folder-error").text
    assert page.all("input", id="folder")[0].attrs["aria-invalid"] == "true"
    assert _count(session_factory, Submission) == 0
    assert not list(settings.archive_dir.glob("*/*"))


def test_a_folder_over_the_archive_limits_is_refused(
    client: TestClient, session_factory: SessionFactory, settings: Settings, alice: Account
) -> None:
    agent, token = _own_agent(client, alice)
    too_many = [
        ("folder", (f"bot/f{n}.py", b"", "text/x-python"))
        for n in range(settings.archive_max_files + 1)
    ]
    refused = client.post(
        f"/agents/{agent}/submissions",
        data={"csrf_token": token, "source": "folder"},
        files=too_many,
    )
    assert refused.status_code == 400
    assert "more than 50 files" in page_of(refused).by_id("folder-error").text
    assert _count(session_factory, Submission) == 0


def test_a_git_url_becomes_a_submission_and_a_refused_one_comes_back(
    client: TestClient, session_factory: SessionFactory, alice: Account
) -> None:
    agent, token = _own_agent(client, alice)
    url = "https://git.example.com/alice/bot.git"
    refusals = [
        ({"code_url": "http://git.example.com/alice/bot.git"}, 422, "code_url"),
        ({"code_url": "https://127.0.0.1/alice/bot.git"}, 422, "code_url"),
        ({"code_url": url, "ref": "-bad ref"}, 422, "ref"),
    ]
    for fields, status, field in refusals:
        data = {"csrf_token": token, "source": "git", **fields}
        refused = client.post(f"/agents/{agent}/submissions", data=data)
        assert refused.status_code == status, (fields, refused.text)
        page = page_of(refused)
        assert page.by_id(f"{field}-error").text
        assert page.all("input", name="code_url")[0].attrs["value"] == fields["code_url"]
    assert _count(session_factory, Submission) == 0
    data = {"csrf_token": token, "source": "git", "code_url": url, "ref": "main"}
    done = client.post(f"/agents/{agent}/submissions", data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    api_path = done.headers["location"].replace("/submissions/", "/api/v1/submissions/")
    api = client.get(api_path, headers=alice.headers)  # the code URL is the owner's to see
    assert (api.json()["codeUrl"], api.json()["ref"]) == (url, "main")


def test_a_bad_or_oversized_archive_stores_nothing(
    client: TestClient, session_factory: SessionFactory, settings: Settings, alice: Account
) -> None:
    agent, token = _own_agent(client, alice)
    path = f"/agents/{agent}/submissions"
    data = {"csrf_token": token, "source": "archive"}
    bad = client.post(path, data=data, files={"archive": ("bot.zip", b"not a zip", "x/y")})
    assert bad.status_code == 400
    assert "neither a zip" in page_of(bad).by_id("archive-error").text
    empty = client.post(path, data=data, files={"archive": ("", b"", "x/y")})
    assert empty.status_code == 400
    assert "empty" in page_of(empty).by_id("archive-error").text
    # Over the archive limit but under the body's: the archive's own 413, beside the field.
    big = b"PK\x03\x04" + b"\0" * settings.archive_max_bytes
    over = client.post(path, data=data, files={"archive": ("bot.zip", big, "x/y")})
    assert over.status_code == 413
    assert "larger than the 1 MiB limit" in page_of(over).by_id("archive-error").text
    # Over the request body limit the API has: refused before the route.
    huge = b"\0" * (settings.archive_max_bytes + 2 * 1024 * 1024)
    refused = client.post(path, data=data, files={"archive": ("bot.zip", huge, "x/y")})
    assert refused.status_code == 413
    assert _count(session_factory, Submission) == 0
    assert not list(settings.archive_dir.glob("*/*"))


def test_only_the_owner_submits_and_only_with_the_forms_token(
    client: TestClient, session_factory: SessionFactory, alice: Account, bob: Account
) -> None:
    agent = create_agent(client, bob, "bobs")
    data = {"source": "git", "code_url": "https://git.example.com/a/b"}
    signed_out = client.post(
        f"/agents/{agent}/submissions", data={**data, "csrf_token": _token(client, "/login")}
    )
    assert signed_out.status_code == 401
    assert sign_in(client, "alice", "alice-password").status_code == 303
    others = page_of(client.get(f"/agents/{agent}"))
    assert others.all("section", id="new-submission") == []
    token = others.csrf()
    forbidden = client.post(f"/agents/{agent}/submissions", data={**data, "csrf_token": token})
    assert forbidden.status_code == 403
    upload = client.post(
        f"/agents/{agent}/submissions",
        data={"source": "archive", "csrf_token": token},
        files={"archive": ("bot.zip", zip_files({"main.py": MAIN}), "application/zip")},
    )
    assert upload.status_code == 403
    own = create_agent(client, alice, "alices")
    forged = client.post(f"/agents/{own}/submissions", data=data)
    assert forged.status_code == 403
    assert _count(session_factory, Submission) == 0


# -- a challenge ----------------------------------------------------------------------------


def test_the_owner_challenges_an_active_agent_within_the_quota(
    client: TestClient, session_factory: SessionFactory, alice: Account, bob: Account
) -> None:
    mine, _ = pretend_built(client, session_factory, alice, "mine")
    theirs, _ = pretend_built(client, session_factory, bob, "theirs")
    pretend_built(client, session_factory, bob, "idle", status="success")
    pretend_built(client, session_factory, bob, "other-game", game="rps")
    assert sign_in(client, "alice", "alice-password").status_code == 303
    page = page_of(client.get(f"/agents/{mine}"))
    options = [e.attrs["value"] for e in page.all("option")]
    assert options == [theirs]  # active, of the game, not itself
    assert page.by_id("challenge-quota").text.startswith(f"{QUOTA} of {QUOTA} challenges left")
    done = client.post(
        f"/agents/{mine}/challenge",
        data={"csrf_token": page.csrf(), "opponent": theirs},
        follow_redirects=False,
    )
    assert done.status_code == 303
    match_id = done.headers["location"].removeprefix("/matches/")
    api = client.get(f"/api/v1/matches/{match_id}").json()
    assert api["ranked"] is False and api["status"] == "queued"
    assert [a["agentId"] for a in api["agents"]] == [mine, theirs]
    with session_factory() as session:
        row = session.get(Match, match_id)
        assert row is not None and row.created_by == alice.id
        assert row.status_events[0].reason == "challenge by alice: mine vs theirs"
    again = page_of(client.get(f"/agents/{mine}"))
    assert again.by_id("challenge-quota").text.startswith(f"{QUOTA - 1} of {QUOTA}")


def test_a_refused_challenge_says_why_beside_the_opponent(
    client: TestClient, session_factory: SessionFactory, alice: Account, bob: Account
) -> None:
    mine, _ = pretend_built(client, session_factory, alice, "mine")
    theirs, _ = pretend_built(client, session_factory, bob, "theirs")
    idle, _ = pretend_built(client, session_factory, bob, "idle", status="success")
    rps, _ = pretend_built(client, session_factory, bob, "rock", game="rps")
    assert sign_in(client, "alice", "alice-password").status_code == 303
    token = _token(client, f"/agents/{mine}")
    for opponent, says in (
        (mine, "cannot challenge itself"),
        (idle, "idle has no active submission"),
        (rps, "rock plays rps"),
        ("agt_nosuch", "No such opponent"),
    ):
        data = {"csrf_token": token, "opponent": opponent}
        refused = client.post(f"/agents/{mine}/challenge", data=data)
        assert refused.status_code == 422
        assert says in page_of(refused).by_id("opponent-error").text
    assert _count(session_factory, Match) == 0
    # Someone else's agent, signed out, without the token: refused, nothing queued.
    data = {"csrf_token": token, "opponent": mine}
    assert client.post(f"/agents/{theirs}/challenge", data=data).status_code == 403
    assert client.post(f"/agents/{mine}/challenge", data={"opponent": theirs}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    token = _token(client, "/login")
    data = {"csrf_token": token, "opponent": theirs}
    assert client.post(f"/agents/{mine}/challenge", data=data).status_code == 401
    assert _count(session_factory, Match) == 0


def test_over_the_quota_a_challenge_is_refused_with_when_to_retry(
    client: TestClient, session_factory: SessionFactory, alice: Account, bob: Account
) -> None:
    mine, _ = pretend_built(client, session_factory, alice, "mine")
    theirs, _ = pretend_built(client, session_factory, bob, "theirs")
    # Unranked matches made through the API count against the same quota.
    for _ in range(QUOTA):
        body = {"agent1Id": mine, "agent2Id": theirs}
        made = client.post("/api/v1/matches", json=body, headers=alice.headers)
        assert made.status_code == 201, made.text
    assert sign_in(client, "alice", "alice-password").status_code == 303
    page = page_of(client.get(f"/agents/{mine}"))
    quota = page.by_id("challenge-quota").text
    assert quota.startswith(f"0 of {QUOTA} challenges left") and "frees up at" in quota
    data = {"csrf_token": page.csrf(), "opponent": theirs}
    refused = client.post(f"/agents/{mine}/challenge", data=data)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Scrimmage quota reached" in page_of(refused).by_id("opponent-error").text
    assert _count(session_factory, Match) == QUOTA
