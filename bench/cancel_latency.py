"""How long a cancelled running match takes to stop: from ``POST /matches/{id}/cancel`` to
both agents' processes gone, with the cancel heard on the event bus or only at a heartbeat.

    python bench/cancel_latency.py --rounds 9 --json

On SQLite in a temporary data folder, the real app serves (in process) with its embedded
executor (the local runner with its fork servers; ``--external``: a ``botarena executor``
process). Two agents are registered with a built artifact each: a ConnectX agent that thinks
0.8 s per turn in a child process carrying a mark of the run's own, so each agent's process
is found on this machine as that child's parent. Each round creates a match, waits until both
agents have been seen thinking, then cancels it and polls ``/proc`` every 5 ms until neither
agent's process nor any marked child lives. Rounds alternate between

- ``bus``: the cancel served by the dispatching server itself, which hears it on its event bus
  (what every deployment on one server does, and what PostgreSQL relays between servers);
- ``heartbeat``: the cancel served by a second server on the same SQLite file, whose bus does
  not reach the dispatcher (SQLite relays nothing between processes): the dispatcher finds the
  lease gone at the match's next heartbeat (one a second): the safety net.

It prints one JSON object: per mode the median and the largest time from the cancel request
sent to the agents gone (``stopped_ms_*``) and the request's own time (``answer_ms_p50``).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _platform import built_agents, executor_process, new_user_headers  # noqa: E402

from botarena.app import create_app  # noqa: E402
from botarena.builds.backends.base import Artifact  # noqa: E402
from botarena.logging import configure_logging  # noqa: E402
from botarena.settings import Settings  # noqa: E402

MODES = ("bus", "heartbeat")


def thinker(mark: str) -> str:
    return (
        "import subprocess, sys\n"
        "def agent(obs, conf):\n"
        "    subprocess.run([sys.executable, '-c', 'import time; time.sleep(0.8)',"
        f" {mark!r}], check=True)\n"
        "    return [c for c in range(conf.columns) if obs.board[c] == 0][0]\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="rounds of each mode")
    parser.add_argument(
        "--external",
        action="store_true",
        help="dispatch to a 'botarena executor' process instead of the embedded executor",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    with tempfile.TemporaryDirectory() as folder:
        report = _run(Path(folder), args.rounds, args.external)
    print(json.dumps(report, indent=None if args.json else 2))


def _run(folder: Path, rounds: int, external: bool) -> dict[str, Any]:
    mark = f"bench-thinking-{secrets.token_hex(6)}"
    code_dir = folder.resolve() / "artifacts" / "thinker" / "code"
    code_dir.mkdir(parents=True)
    (code_dir / "main.py").write_text(thinker(mark))
    artifact = Artifact(backend="local", code_dir=str(code_dir)).to_json()
    with ExitStack() as stack:
        executors: tuple[str, ...] = ()
        if external:
            executors = (stack.enter_context(executor_process(folder))[0],)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=folder,
            builds_enabled=False,
            matches_enabled=True,
            ladder_enabled=False,
            executors=executors,
            executor_capacity=1,
            log_level="WARNING",
        )
        serving = stack.enter_context(TestClient(create_app(settings)))
        # A second server on the same database, dispatching nothing: its bus reaches no one.
        other = stack.enter_context(
            TestClient(create_app(settings.model_copy(update={"matches_enabled": False})))
        )
        factory = serving.app.state.session_factory  # type: ignore[attr-defined]
        headers = new_user_headers(factory, "bench")
        agents = built_agents(serving, factory, headers, artifact)
        samples: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
        _round(serving, serving, headers, agents, mark)  # warm-up: the fork servers start
        for _ in range(rounds):
            for mode in MODES:
                canceller = serving if mode == "bus" else other
                samples[mode].append(_round(serving, canceller, headers, agents, mark))
    report: dict[str, Any] = {
        "rounds": rounds,
        "executor": "external process" if external else "embedded",
    }
    for mode, taken in samples.items():
        stopped = [s for s, _ in taken]
        report[f"{mode}_stopped_ms_p50"] = round(statistics.median(stopped), 1)
        report[f"{mode}_stopped_ms_max"] = round(max(stopped), 1)
        report[f"{mode}_answer_ms_p50"] = round(statistics.median(a for _, a in taken), 1)
    return report


def _round(
    serving: TestClient,
    canceller: TestClient,
    headers: dict[str, str],
    agents: list[str],
    mark: str,
) -> tuple[float, float]:
    """One match cancelled while both agents think: (ms until they are gone, ms of the
    cancel request)."""
    answer = serving.post(
        "/api/v1/matches", json={"agent1Id": agents[0], "agent2Id": agents[1]}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    match_id = answer.json()["id"]
    thinking = _thinking_agents(mark, 2)
    sent = time.perf_counter()
    cancelled = canceller.post(f"/api/v1/matches/{match_id}/cancel", headers=headers)
    answered = time.perf_counter()
    assert cancelled.status_code == 200, cancelled.text
    while _marked(mark) or any(_alive(pid) for pid in thinking):
        if time.perf_counter() - sent > 30:
            raise SystemExit(f"the agents of {match_id} still run 30 s after the cancel")
        time.sleep(0.005)
    gone = time.perf_counter()
    return (gone - sent) * 1000, (answered - sent) * 1000


def _thinking_agents(mark: str, count: int) -> set[int]:
    agents: set[int] = set()
    deadline = time.monotonic() + 60
    while len(agents) < count:
        if time.monotonic() > deadline:
            raise SystemExit("the agents never started thinking")
        agents.update(_marked(mark).values())
        time.sleep(0.01)
    return agents


def _marked(mark: str) -> dict[int, int]:
    """Each live process carrying ``mark`` and its parent."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark.encode() not in (entry / "cmdline").read_bytes().split(b"\0"):
                continue
            status = (entry / "status").read_text()
        except OSError:
            continue
        if "\nState:\tZ" in status:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:"):
                found[int(entry.name)] = int(line.split()[1])
    return found


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


if __name__ == "__main__":
    main()
