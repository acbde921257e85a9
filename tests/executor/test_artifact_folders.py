"""Artifact folders: one per build attempt, held while played, removed once retired and free."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from botarena.executor.artifact_folders import (
    CODE,
    ArtifactGoneError,
    Hold,
    attempts,
    make_attempt,
    new_build_id,
    retire,
)
from botarena.executor.client import MatchRefusedError
from botarena.executor.proto import executor_pb2 as pb

from support.executors import dispatcher_client, serving_both_ways
from support.services import require_sandbox


def _attempt(submission: Path, text: str = "x") -> Path:
    code = make_attempt(submission, new_build_id())
    code.mkdir()
    (code / "main.py").write_text(text)
    return code


def test_build_ids_sort_in_the_order_they_were_made() -> None:
    made = [new_build_id() for _ in range(50)]
    assert made == sorted(made) and len(set(made)) == 50


def test_an_attempt_nobody_holds_is_removed_when_retired(tmp_path: Path) -> None:
    submission = tmp_path / "artifacts" / "sub-a"
    old, new = _attempt(submission), _attempt(submission)
    assert attempts(submission) == [old.parent, new.parent]
    assert retire(old.parent) is True
    assert not old.parent.exists() and new.is_dir()
    assert attempts(submission) == [new.parent]


def test_a_held_attempt_stays_until_its_last_holder_lets_go(tmp_path: Path) -> None:
    code = _attempt(tmp_path / "artifacts" / "sub-a")
    first, second = Hold(code).take(), Hold(code).take()
    assert retire(code.parent) is False
    assert (code / "main.py").read_text() == "x"
    first.release()
    assert code.is_dir(), "another match still plays it"
    second.release()
    assert not code.parent.exists()
    assert not (tmp_path / "artifacts" / "sub-a").exists(), "nothing left of the submission"


def test_an_attempt_removed_before_it_was_held_is_refused(tmp_path: Path) -> None:
    code = _attempt(tmp_path / "artifacts" / "sub-a")
    retire(code.parent)
    with pytest.raises(ArtifactGoneError, match="replaced by a newer build"):
        Hold(code).take()


def test_a_holder_that_opened_the_lock_before_removal_is_refused(tmp_path: Path) -> None:
    # The race: the remover has the lock; a player opens it, waits, and must find it gone.
    code = _attempt(tmp_path / "artifacts" / "sub-a")
    outcome: list[str] = []
    removing = Hold(code)
    removing.take()  # stands for the remover's wait: removal cannot start while held

    def play() -> None:
        try:
            with Hold(code):
                outcome.append("held")
        except ArtifactGoneError:
            outcome.append("gone")

    (code.parent / "retired").touch()
    player = threading.Thread(target=play)
    player.start()
    player.join(1)
    removing.release()  # the last holder of a retired attempt removes it
    player.join(5)
    assert outcome in (["held"], ["gone"])
    assert not code.parent.exists()


def test_folders_that_are_not_attempts_are_never_held_or_removed(tmp_path: Path) -> None:
    legacy = tmp_path / "artifacts" / "sub-old" / CODE
    legacy.mkdir(parents=True)
    own = tmp_path / "my-agent"
    own.mkdir()
    for folder in (legacy, own):
        with Hold(folder):
            pass
        assert folder.is_dir()
    assert attempts(tmp_path / "artifacts" / "sub-old") == []


# -- through the executor service --------------------------------------------------------
RANDOM = (
    "import random, time\n"
    "time.sleep(0.5)\n"  # long enough for the test to retire it while the match runs
    "def agent(obs, conf):\n"
    "    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])\n"
)


def test_a_match_keeps_the_artifact_it_started_with(tmp_path: Path) -> None:
    require_sandbox()
    data_dir = (tmp_path / "data").resolve()
    data_dir.mkdir()
    played = _attempt(data_dir / "artifacts" / "sub-played", RANDOM)
    other = _attempt(data_dir / "artifacts" / "sub-other", RANDOM)
    spec = pb.MatchSpec(
        match_id="mat-held",
        game="connectx",
        agents=[
            pb.AgentSpec(name="played", code_dir=str(played)),
            pb.AgentSpec(name="other", code_dir=str(other)),
        ],
    )
    with (
        serving_both_ways(data_dir) as (address, _),
        dispatcher_client(address, data_dir) as client,
    ):
        events = client.run_match(spec)
        assert next(events).HasField("started")
        # A rebuild replaced it while it plays: it is retired, not removed.
        assert retire(played.parent) is False
        finished = [event for event in events if event.HasField("finished")]
        assert finished and finished[0].finished.status == "finished", finished
        # Its match over, nothing holds it: it is gone, and a match naming it now is refused.
        assert not played.parent.exists() and other.is_dir()
        spec.match_id = "mat-late"
        with pytest.raises(MatchRefusedError, match="is not a folder"):
            list(client.run_match(spec))
