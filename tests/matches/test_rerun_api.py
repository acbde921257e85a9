"""What ``botarena rerun`` downloads: a finished match's rerun plan and each seat's source, for
admins and whoever may download both submissions; an unfinished match refused."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from botarena.agents.models import Submission
from botarena.db.engine import SessionFactory
from botarena.matches.models import Match
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_archive, submit_url, zip_files
from support.gitserver import GitServer, make_repo

GREEDY = (Path(__file__).resolve().parents[2] / "examples" / "agents" / "connectx-greedy").joinpath(
    "main.py"
)
LOCAL_ARTIFACT = '{"backend": "local", "codeDir": "/nowhere", "envDir": null, "command": null}'


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GitServer, str]]:
    """A Git server with one repository, ``bot``, and the commit of its main branch."""
    root = tmp_path_factory.mktemp("repos")
    shas = make_repo(root, "bot", {"main.py": GREEDY.read_bytes(), "notes/read.me": b"hello\n"})
    with GitServer(root) as server:
        yield server, shas["main"]


@pytest.fixture
def git_server(git_repo: tuple[GitServer, str]) -> GitServer:
    return git_repo[0]


@pytest.fixture
def settings(settings: Settings, git_server: GitServer) -> Settings:
    """The shared settings, letting the server fetch from the loopback git server."""
    return settings.model_copy(
        update={"git_allow_http": True, "git_allow_hosts": (f"127.0.0.1:{git_server.port}",)}
    )


def _built(factory: SessionFactory, sub: str, commit_sha: str | None = None) -> None:
    """The submission as a successful build leaves it (no builder runs in these tests)."""
    with factory() as session:
        row = session.get(Submission, sub)
        assert row is not None
        row.status = "success"
        row.artifact = LOCAL_ARTIFACT
        row.commit_sha = commit_sha
        session.commit()


def _finish(factory: SessionFactory, match_id: str) -> None:
    """The match as an executor's result leaves it."""
    with factory() as session:
        row = session.get(Match, match_id)
        assert row is not None
        row.status = "finished"
        row.winner, row.scores, row.turns = 1, json.dumps([-1.0, 1.0]), 9
        session.commit()


def _match(client: TestClient, account: Account, a: str, b: str) -> str:
    answer = client.post(
        "/api/v1/matches",
        json={"agent1Id": a, "agent2Id": b, "seed": 42, "config": {"rows": 5}},
        headers=account.headers,
    )
    assert answer.status_code == 201, answer.text
    match_id: str = answer.json()["id"]
    return match_id


def test_a_finished_match_of_ones_own_agents(
    client: TestClient,
    alice: Account,
    bob: Account,
    admin: Account,
    session_factory: SessionFactory,
    git_repo: tuple[GitServer, str],
) -> None:
    git_server, main_sha = git_repo
    archive = zip_files({"main.py": GREEDY.read_bytes()})
    zipped = create_agent(client, alice, "zipped")
    zipped_sub = submit_archive(client, alice, zipped, archive)
    _built(session_factory, zipped_sub)
    fetched = create_agent(client, alice, "fetched")
    fetched_sub = submit_url(client, alice, fetched, git_server.url_for("bot"))
    _built(session_factory, fetched_sub, main_sha)
    match_id = _match(client, alice, zipped, fetched)
    rerun = f"/api/v1/matches/{match_id}/rerun"

    # Queued: nothing to reproduce yet, with the status in the sentence.
    waiting = client.get(rerun, headers=alice.headers)
    assert waiting.status_code == 409
    assert waiting.json()["error"] == f"Match {match_id} has not finished (status: queued)"

    _finish(session_factory, match_id)
    plan = client.get(rerun, headers=alice.headers)
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert (body["matchId"], body["game"], body["seed"]) == (match_id, "connectx", 42)
    assert body["configuration"] == {"rows": 5}
    assert (body["winner"], body["scores"], body["turns"]) == (1, [-1.0, 1.0], 9)
    assert body["replayPath"] == f"/matches/{match_id}/replay"
    first, second = body["players"]
    assert (first["player"], first["agentName"], first["submissionId"]) == (0, "zipped", zipped_sub)
    assert first["sourceKind"] == "archive"
    assert first["archiveSha256"] == hashlib.sha256(archive).hexdigest()
    assert (second["sourceKind"], second["commitSha"]) == ("git", main_sha)
    assert second["codeUrl"] == git_server.url_for("bot")

    # The uploaded archive comes back byte for byte.
    got = client.get("/api/v1" + first["sourcePath"], headers=alice.headers)
    assert got.status_code == 200
    assert got.content == archive
    assert got.headers["content-type"] == "application/zip"
    # The Git submission: its pinned commit fetched again and packed.
    got = client.get("/api/v1" + second["sourcePath"], headers=alice.headers)
    assert got.status_code == 200, got.text
    with tarfile.open(fileobj=io.BytesIO(got.content), mode="r:gz") as packed:
        names = sorted(m.name for m in packed.getmembers() if m.isfile())
        main = packed.extractfile("main.py")
        assert main is not None and main.read() == GREEDY.read_bytes()
    assert names == ["main.py", "notes/read.me"]

    # An admin may; someone else may neither re-run the match nor download its code.
    assert client.get(rerun, headers=admin.headers).status_code == 200
    refused = client.get(rerun, headers=bob.headers)
    assert refused.status_code == 403
    assert refused.json()["error"] == (
        f"Only admins and whoever may download both submissions may re-run match {match_id}: "
        "the code of player 0 (zipped) is not your team's"
    )
    source = client.get("/api/v1" + first["sourcePath"], headers=bob.headers)
    assert source.status_code == 403
    assert (
        source.json()["error"]
        == "Only the members of the agent's team and admins may download its code"
    )
    assert client.get(rerun).status_code == 401
    missing = client.get("/api/v1/matches/mat-nope/rerun", headers=alice.headers)
    assert missing.status_code == 404


def test_a_match_against_someone_elses_agent_is_refused(
    client: TestClient, alice: Account, bob: Account, session_factory: SessionFactory
) -> None:
    mine = create_agent(client, alice, "mine")
    _built(session_factory, submit_archive(client, alice, mine, zip_files({"main.py": b"x"})))
    theirs = create_agent(client, bob, "theirs")
    _built(session_factory, submit_archive(client, bob, theirs, zip_files({"main.py": b"y"})))
    match_id = _match(client, alice, mine, theirs)
    _finish(session_factory, match_id)
    for account, seat, name in ((alice, 1, "theirs"), (bob, 0, "mine")):
        refused = client.get(f"/api/v1/matches/{match_id}/rerun", headers=account.headers)
        assert refused.status_code == 403
        assert refused.json()["error"].endswith(f"player {seat} ({name}) is not your team's")


def test_a_git_source_without_a_commit_or_a_repository(
    client: TestClient,
    alice: Account,
    session_factory: SessionFactory,
    git_repo: tuple[GitServer, str],
) -> None:
    git_server, main_sha = git_repo
    agent = create_agent(client, alice, "fetched")
    unpinned = submit_url(client, alice, agent, git_server.url_for("bot"))
    answer = client.get(f"/api/v1/submissions/{unpinned}/source", headers=alice.headers)
    assert answer.status_code == 409
    assert answer.json()["error"] == f"Submission {unpinned} has no pinned commit yet"

    gone = submit_url(client, alice, agent, git_server.url_for("gone"))
    _built(session_factory, gone, main_sha)
    answer = client.get(f"/api/v1/submissions/{gone}/source", headers=alice.headers)
    assert answer.status_code == 502
    assert answer.json()["error"] == (
        f"The repository of submission {gone} could not be fetched again"
    )
