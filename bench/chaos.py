"""Kill the platform's parts at random moments, many times, then check that nothing was lost.

    python bench/chaos.py --kills 50 --json

It starts a throwaway PostgreSQL, a private Docker engine (with a base image made from this
machine's Python, as the tests make one), two ``botarena executor`` processes and ``botarena
serve`` (builds with the docker backend, matches on the two executors with the docker runner,
the ladder on), registers connectx agents from ``examples/agents`` and submits them. Then
``--kills`` times, at a random moment while a build or a match is in flight, it kills one of
the server, an executor, the docker engine or PostgreSQL with SIGKILL and starts it again; now
and then it submits a new version so that builds keep coming.

At the end it lets the platform finish what is queued (the ladder off), stops it, and checks:

- every submission is in a final state, or in one it can leave (pending, or building under a
  lease that will run out);
- no match is ``running`` without a live lease;
- no result is recorded twice (one end status per match, one rating change per seat);
- the ratings equal what ``botarena ratings recompute`` makes from the history;
- no sandbox process, container or cgroup of ours is left.

It prints the counts: kills of each kind (and what was in flight), builds and matches
completed, and each kind of loss, which must all be zero.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from _serving import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "agents"
AGENTS = ("connectx-random", "connectx-greedy", "connectx-search")
FINAL = {"success", "build_failed", "active", "failed", "inactive"}
TARGETS = ("server", "executor", "docker", "postgres")
READY_SECONDS = 90.0


@dataclass
class Process:
    """One part of the platform run as a process of its own, restartable on the same port."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self.popen.pid

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: nothing is handed back."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()

    def stop(self, seconds: float = 30.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(seconds)
        except subprocess.TimeoutExpired:
            self.kill()

    def exited_early(self) -> str | None:
        if self.popen is not None and self.popen.poll() is not None:
            return f"{self.name} exited ({self.popen.returncode}):\n{_tail(self.log)}"
        return None


@dataclass
class Platform:
    """Everything the run started, and how to kill and restart each part."""

    folder: Path
    database_url: str
    conninfo: str
    server: Process
    executors: list[Process]
    url: str
    token: str
    postgres: Any
    engine: Any
    pids: set[int] = field(default_factory=set)
    kills: Counter[str] = field(default_factory=Counter)
    in_flight_at_kill: Counter[str] = field(default_factory=Counter)
    submitted: int = 0

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--settle", type=float, default=240.0, help="Seconds to finish the queue.")
    parser.add_argument("--keep", action="store_true", help="Keep the run's folder (logs).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    chance = random.Random(seed)
    started = time.monotonic()
    with _platform(args.keep) as platform:
        for agent in AGENTS:
            _create_agent(platform, agent)
            _submit(platform, agent)
        played = lambda: _activate(platform) or _count(platform, "matches", "status = 'finished'")  # noqa: E731
        if _wait_for(played, 300, platform) is None:
            raise RuntimeError(f"no match was played:\n{_tail(platform.server.log)}")
        for kill in range(args.kills):
            if kill % 5 == 4:
                _submit(platform, chance.choice(AGENTS))
            _activate(platform)
            _kill_one(platform, chance)
        report = _finish(platform, args.settle)
    report |= {"seed": seed, "kills": args.kills, "seconds": round(time.monotonic() - started)}
    print(json.dumps(report, indent=None if args.json else 2))
    sys.exit(0 if not any(report["lost"].values()) else 1)


# -- the run ------------------------------------------------------------------------------------


def _kill_one(platform: Platform, chance: random.Random) -> None:
    """Wait a random moment while something is in flight, then kill a random part."""
    time.sleep(chance.uniform(0.5, 4.0))
    flight = _wait_for_flight(platform, 30.0)
    target = chance.choice(TARGETS)
    platform.kills[target] += 1
    platform.in_flight_at_kill[flight] += 1
    if target in ("server", "executor"):
        process = platform.server if target == "server" else chance.choice(platform.executors)
        process.kill()
        time.sleep(chance.uniform(0.0, 2.0))
        platform.pids.add(process.start())
    elif target == "docker":
        _kill_docker(platform.engine)
        time.sleep(chance.uniform(0.0, 2.0))
        _restart_docker(platform.engine)
    else:
        _kill_postgres(platform.postgres)
        time.sleep(chance.uniform(0.0, 2.0))
        _restart_postgres(platform.postgres)
    _wait_answering(platform)


def _wait_for_flight(platform: Platform, seconds: float) -> str:
    """``build``, ``match`` or ``both`` once one is in flight; ``none`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with suppress(psycopg.Error):
            building = _count(platform, "submissions", "status = 'building'")
            running = _count(platform, "matches", "status = 'running'")
            if building and running:
                return "both"
            if building:
                return "build"
            if running:
                return "match"
        time.sleep(0.1)
    return "none"


def _finish(platform: Platform, settle: float) -> dict[str, Any]:
    """Turn the ladder off, let the queue run out, stop everything, and count what was lost."""
    platform.server.stop()
    platform.server.env["BOTARENA_LADDER_ENABLED"] = "false"
    platform.server.start()
    _wait_answering(platform)

    def settled() -> bool:
        _activate(platform)
        waiting = _count(platform, "submissions", "status IN ('pending', 'building')")
        return waiting + _count(platform, "matches", "status IN ('queued', 'running')") == 0

    settled_in = _wait_for(settled, settle, platform)
    lost: dict[str, int] = {
        "submissions_stuck": len(_stuck_submissions(platform)),
        "matches_running_without_lease": len(_running_without_lease(platform)),
        "results_recorded_twice": _recorded_twice(platform),
    }
    platform.server.stop()
    for executor in platform.executors:
        executor.stop()
    lost["ratings_not_as_recomputed"] = _ratings_differ(platform)
    lost |= _leftovers(platform)
    done = _rows(
        platform,
        "SELECT status, count(*) FROM submissions GROUP BY status",
    )
    matches = _rows(platform, "SELECT status, count(*) FROM matches GROUP BY status")
    failed = "SELECT left(coalesce(error_message, ''), 300) FROM submissions WHERE status = '{}'"
    errors = "SELECT left(coalesce(error, ''), 300) FROM matches WHERE status = 'error'"
    return {
        "kills_by_target": dict(platform.kills),
        "in_flight_at_kill": dict(platform.in_flight_at_kill),
        "submissions": platform.submitted,
        "submissions_by_status": {str(k): int(v) for k, v in done},
        "matches_by_status": {str(k): int(v) for k, v in matches},
        "settled_in_s": settled_in,
        "build_failures": [row[0] for row in _rows(platform, failed.format("build_failed"))],
        "match_errors": [row[0] for row in _rows(platform, errors)],
        "containers": _containers(platform),
        "lost": lost,
    }


# -- the checks ---------------------------------------------------------------------------------


def _stuck_submissions(platform: Platform) -> list[str]:
    """Submissions neither final nor in a state they can leave."""
    now = datetime.now(UTC)
    stuck = []
    for sid, status, lease_until in _rows(
        platform, "SELECT id, status, lease_until FROM submissions"
    ):
        if status in FINAL or status == "pending":
            continue
        if status == "building" and lease_until is not None and _aware(lease_until) > now:
            continue
        stuck.append(f"{sid} {status}")
    return stuck


def _running_without_lease(platform: Platform) -> list[str]:
    now = datetime.now(UTC)
    return [
        match_id
        for match_id, lease_until in _rows(
            platform, "SELECT id, lease_until FROM matches WHERE status = 'running'"
        )
        if lease_until is None or _aware(lease_until) <= now
    ]


def _recorded_twice(platform: Platform) -> int:
    """Matches with more than one end in their history (a result recorded twice)."""
    rows = _rows(
        platform,
        "SELECT match_id FROM match_status_events WHERE status IN ('finished', 'error', "
        "'cancelled') GROUP BY match_id HAVING count(*) > 1",
    )
    return len(rows)


def _ratings_differ(platform: Platform) -> int:
    """Ratings whose values differ from those ``botarena ratings recompute`` makes."""
    query = "SELECT submission_id, mu, sigma, games, wins, losses, draws FROM ratings"
    before = {row[0]: row[1:] for row in _rows(platform, query)}
    cli(platform.server.env, "ratings", "recompute")
    after = {row[0]: row[1:] for row in _rows(platform, query)}
    differ = 0
    for submission in before.keys() | after.keys():
        old, new = before.get(submission), after.get(submission)
        if old is None or new is None:
            differ += 1
            continue
        close = all(abs(a - b) <= 1e-9 for a, b in zip(old[:2], new[:2], strict=True))
        if not close or old[2:] != new[2:]:
            differ += 1
    return differ


def _leftovers(platform: Platform) -> dict[str, int]:
    sys.path.insert(0, str(ROOT / "src"))
    from botarena.executor.sandbox import detect_cgroup_driver

    containers = platform.engine.client().containers.list(all=True)
    # A sandbox's cgroup is named after the process that made it (``<name>.p<pid>``): only
    # ours count, other work on this machine may have its own.
    ours = {f".p{pid}" for pid in platform.pids}
    cgroups = 0
    for parent in getattr(detect_cgroup_driver(), "parents", {}).values():
        if parent.exists():
            cgroups += sum(1 for c in parent.iterdir() if c.is_dir() and c.suffix in ours)
    return {
        "containers_left": len(containers),
        "processes_left": len(_processes_of(platform.folder)),
        "cgroups_left": cgroups,
    }


def _containers(platform: Platform) -> list[str]:
    return [
        f"{c.name} {c.status} {sorted(c.labels.items())}"
        for c in platform.engine.client().containers.list(all=True)
    ]


def _processes_of(folder: Path) -> set[int]:
    """Processes still running with the run's folder on their command line (a sandbox binds
    the artifact's folder; the platform's processes name their data folder)."""
    found = set()
    mark = str(folder).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with suppress(OSError):
                if mark in (entry / "cmdline").read_bytes():
                    found.add(int(entry.name))
    return found


# -- starting and killing the parts -------------------------------------------------------------


@contextmanager
def _platform(keep: bool) -> Iterator[Platform]:
    sys.path.insert(0, str(ROOT / "tests"))
    from support.docker import build_python_image, start_docker
    from support.postgres import start_postgres

    folder = Path(tempfile.mkdtemp(prefix="botarena-chaos-"))
    with ExitStack() as stack:
        postgres = start_postgres()
        stack.callback(postgres.stop)
        database_url = postgres.create_database("botarena_chaos")
        engine = start_docker()
        stack.callback(engine.stop)
        base = "python:3.11-slim"
        build_python_image(engine.client(), base)
        env = _environment(folder, database_url, engine.url, base)
        token = cli(env, "user", "create", "chaos", "--admin").strip().splitlines()[-1]
        executors = []
        for number in (1, 2):
            bundle = folder / f"executor-{number}"
            cli(env, "executor", "credentials", "--out", str(bundle))
            executor_env = env | {
                "BOTARENA_DATA_DIR": str(folder / f"executor-{number}-data"),
                "BOTARENA_TLS_DIR": str(bundle),
            }
            address = f"127.0.0.1:{_free_port()}"
            command = [sys.executable, "-m", "botarena", "executor", "--listen", address]
            executors.append(
                Process(f"executor-{number}", command, executor_env, folder / f"{number}.log")
            )
        env["BOTARENA_EXECUTORS"] = ",".join(p.command[-1] for p in executors)
        port = _free_port()
        command = [sys.executable, "-m", "botarena", "serve", "--port", str(port)]
        server = Process("server", command, env, folder / "serve.log")
        pids = set()
        for process in (*executors, server):
            pids.add(process.start())
            stack.callback(process.stop)
        platform = Platform(
            folder,
            database_url,
            postgres.conninfo("botarena_chaos"),
            server,
            executors,
            f"http://127.0.0.1:{port}",
            token,
            postgres,
            engine,
            pids,
        )
        _wait_answering(platform)
        try:
            yield platform
        finally:
            if keep:
                print(f"logs kept in {folder}", file=sys.stderr)
            else:
                stack.callback(shutil.rmtree, folder, ignore_errors=True)


def _environment(folder: Path, database_url: str, docker_url: str, base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTARENA_")}
    return env | {
        "PYTHONPATH": str(ROOT / "src"),
        "BOTARENA_DATA_DIR": str(folder / "data"),
        "BOTARENA_DATABASE_URL": database_url,
        "BOTARENA_BUILD_BACKEND": "docker",
        "BOTARENA_DOCKER_HOST": docker_url,
        "BOTARENA_DOCKER_BASE_IMAGE": base,
        "BOTARENA_BUILD_CHECK_INTERVAL": "1",
        "BOTARENA_MATCH_LEASE_SECONDS": "10",
        "BOTARENA_LADDER_ENABLED": "true",
        "BOTARENA_LADDER_RATE": "120",
        "BOTARENA_LOG_FORMAT": "json",
    }


def _kill_docker(engine: Any) -> None:
    """SIGKILL the engine and the containerd it started (its containers' shims live on)."""
    pids = _descendants(engine.process.pid)
    engine.process.kill()
    engine.process.wait()
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _restart_docker(engine: Any) -> None:
    log = (engine.root / "engine.log").open("ab")
    for stale in ("dockerd.pid", "exec/containerd/containerd.pid"):
        with suppress(FileNotFoundError):
            (engine.root / stale).unlink()
    engine.process = subprocess.Popen(
        engine.command,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=engine.environment or None,
        cwd=engine.root,
    )
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        with suppress(Exception):
            engine.client().ping()
            return
        time.sleep(0.2)
    raise RuntimeError(f"dockerd did not come back:\n{_tail(engine.root / 'engine.log')}")


def _kill_postgres(postgres: Any) -> None:
    """SIGKILL the postmaster and every backend: a crash, recovered from the WAL at start."""
    pid = int((postgres.data_dir / "postmaster.pid").read_text().splitlines()[0])
    pids = _descendants(pid)
    for victim in (pid, *pids):
        with suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in (pid, *pids)):
        time.sleep(0.05)


def _restart_postgres(postgres: Any) -> None:
    options = f"-p {postgres.port} -k {postgres.data_dir} -c listen_addresses={postgres.host}"
    options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    command = [
        str(postgres.pg_bin / "pg_ctl"),
        "start",
        "--pgdata",
        str(postgres.data_dir),
        "--log",
        str(postgres.data_dir / "chaos.log"),
        "--options",
        options,
        "--wait",
        "--silent",
    ]
    account = postgres._account
    subprocess.run(
        command,
        check=True,
        stdin=subprocess.DEVNULL,
        cwd="/",
        env={"PATH": os.environ["PATH"], "LC_ALL": "C"},
        user=None if account is None else account.uid,
        group=None if account is None else account.gid,
        extra_groups=None if account is None else list(account.groups),
        timeout=120,
    )


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- talking to the platform --------------------------------------------------------------------


def _activate(platform: Platform) -> int:
    """Activate each submission whose build succeeded, as its owner would; returns how many."""
    done = 0
    for (submission_id,) in _rows(platform, "SELECT id FROM submissions WHERE status = 'success'"):
        with suppress(httpx.HTTPError):
            answer = httpx.post(
                f"{platform.url}/api/v1/submissions/{submission_id}/activate",
                headers=platform.headers(),
                timeout=10,
            )
            done += answer.status_code < 300
    return done


def _create_agent(platform: Platform, name: str) -> None:
    answer = httpx.post(
        f"{platform.url}/api/v1/agents",
        json={"name": name, "game": "connectx"},
        headers=platform.headers(),
        timeout=60,
    )
    answer.raise_for_status()


def _submit(platform: Platform, agent: str) -> None:
    """A new version of ``agent`` from its example folder (retried while the server is down)."""
    env = platform.server.env | {"BOTARENA_SERVER": platform.url, "BOTARENA_TOKEN": platform.token}
    for _ in range(10):
        try:
            cli(env, "submit", str(EXAMPLES / agent), "--agent", agent, "--no-follow", "--json")
        except subprocess.CalledProcessError:
            _wait_answering(platform)
            continue
        platform.submitted += 1
        return
    raise RuntimeError(f"could not submit {agent}")


def _wait_answering(platform: Platform) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        for process in (platform.server, *platform.executors):
            if (problem := process.exited_early()) is not None:
                raise RuntimeError(problem)
        with suppress(httpx.HTTPError):
            if httpx.get(f"{platform.url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server was not ready again:\n{_tail(platform.server.log)}")


def _wait_for(condition: Any, seconds: float, platform: Platform) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        with suppress(psycopg.Error):
            if condition():
                return round(time.monotonic() - started, 1)
        time.sleep(0.5)
    return None


def _count(platform: Platform, table: str, where: str) -> int:
    rows = _rows(platform, f"SELECT count(*) FROM {table} WHERE {where}")  # noqa: S608
    return int(rows[0][0])


def _rows(platform: Platform, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(platform.conninfo, connect_timeout=5) as connection:
        return list(connection.execute(query).fetchall())  # type: ignore[arg-type]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    with suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


if __name__ == "__main__":
    main()
