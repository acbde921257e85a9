"""The web UI with a long history: how fast pages render, how much JS and CSS each page loads,
and what many live listeners cost the server.

    python bench/web_pages.py --agents 1000 --matches 100000 --json

One temporary data folder on SQLite (WAL, as ``botarena serve`` configures it) is filled
directly through the platform's tables: ``--agents`` agents of one game (connectx), each with
one active submission, owned by a user per five agents, and ``--matches`` finished ranked
matches between random pairs spread over the last 30 days (their status history as the queue
writes it); then every rating is recomputed from those matches as ``botarena ratings
recompute`` does. A few of the matches get a real replay (a connectx game of random legal
moves), as the match pages asked for need one. Then a real server runs on that folder
(``create_app`` under uvicorn, as ``botarena serve`` runs it; builds, matches and the ladder
off), and three measurements follow.

- ``pages``: anonymous GETs, one after the other, round-robin over the page kinds (the
  leaderboard's first page, a deep page sorted by games, a match page with its replay, an agent
  page, the front page, the match list) for ``--rounds`` rounds; per kind the p50, p90 and
  max of the time to the last byte, in ms, measured by the client on loopback.
- ``assets``: Debian's chromium loads each kind of page once; every script and stylesheet it
  fetched from the server is counted, and compressed with gzip (level 6, what a proxy in front
  would send); per page the sum and the files.
- ``listeners``: ``--listeners`` live streams of the leaderboard (``/live/games/connectx``,
  each a connection as a browser's would be) beside one stream alone, interleaved, ``--cycles``
  times. In each, the server's CPU time (from ``/proc``) over ``--window`` seconds with
  nothing changing, then over ``--window`` seconds in which a thread inside the server changes
  one rating ``--updates`` times a second and commits (the real path: the event bus hears the
  commit, the page's block is rendered once and sent to every listener); and how many updates
  each listener received. CPU is in seconds per second; ``many_over_one`` divides the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _serving import listening_pid, serving

ROOT = Path(__file__).resolve().parent.parent
GAME = "connectx"
AGENTS_PER_USER = 5
REPLAYS = 30
BOARD_PAGE = 50  # rows on a leaderboard page
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
UPDATES_FLAG = "bench-updates-on"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--matches", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60, help="Page requests per kind.")
    parser.add_argument("--listeners", type=int, default=500)
    parser.add_argument("--cycles", type=int, default=3, help="Of one and many listeners.")
    parser.add_argument("--window", type=float, default=10.0, help="Seconds per CPU window.")
    parser.add_argument("--updates", type=float, default=2.0, help="Rating changes per second.")
    parser.add_argument("--skip", nargs="*", default=[], choices=["assets", "listeners"])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.port, args.updates)
        return
    with tempfile.TemporaryDirectory(prefix="botarena-web-") as folder:
        env = _environment(Path(folder))
        began = time.perf_counter()
        seeded = _seed_in_child(env, args.agents, args.matches)
        seeding_seconds = round(time.perf_counter() - began, 1)
        report: dict[str, Any] = {
            "database": "sqlite (WAL)",
            "agents": args.agents,
            "matches": args.matches,
            "seeding_seconds": seeding_seconds,
        }
        log = Path(folder) / "serve.log"
        command = [sys.executable, __file__, "--serve", "--updates", str(args.updates)]
        with serving(command, env, log) as url:
            pid = listening_pid(url)
            report["pages"] = _pages(url, seeded, args.rounds)
            if "assets" not in args.skip:
                report["assets"] = _assets(url, seeded)
            if "listeners" not in args.skip:
                flag = Path(env["BOTARENA_DATA_DIR"]) / UPDATES_FLAG
                report["listeners"] = asyncio.run(_listeners(url, pid, flag, args))
    print(json.dumps(report, indent=None if args.json else 2))


def _environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTARENA_")}
    return env | {
        "PYTHONPATH": str(ROOT / "src"),
        "BOTARENA_DATA_DIR": str(folder / "data"),
        "BOTARENA_BUILDS_ENABLED": "false",
        "BOTARENA_MATCHES_ENABLED": "false",
        "BOTARENA_LADDER_ENABLED": "false",
        "BOTARENA_LOG_LEVEL": "WARNING",
        "BOTARENA_LOG_FORMAT": "json",
    }


# --- the history ---------------------------------------------------------------------------


def _seed_in_child(env: dict[str, str], agents: int, matches: int) -> dict[str, list[str]]:
    """Fill the database in a child process with the server's settings; the ids to ask for."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from web_pages import seed; print(json.dumps(seed(int(sys.argv[2]), int(sys.argv[3]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(agents), str(matches)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stderr}")
    ids: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return ids


def seed(agents: int, matches: int) -> dict[str, list[str]]:
    """Users, agents, active submissions and finished ranked matches, then ratings; returns
    some agent ids and the ids of the matches given a replay."""
    from sqlalchemy import insert

    from botarena.accounts.models import User
    from botarena.agents.models import Agent, Submission
    from botarena.db.engine import build_engine
    from botarena.db.migrate import upgrade
    from botarena.ids import new_id
    from botarena.matches.models import Match, MatchPlayer, MatchStatusEvent
    from botarena.ratings.book import recompute
    from botarena.settings import get_settings

    rng = random.Random(7)
    settings = get_settings()
    engine = build_engine(settings.resolved_database_url)
    upgrade(engine)
    now = datetime.now(UTC)
    start = now - timedelta(days=30)
    users = [
        {"id": new_id("usr"), "username": f"u{n}", "username_key": f"u{n}", "created_at": start}
        for n in range(max(1, agents // AGENTS_PER_USER))
    ]
    agent_rows, submission_rows = [], []
    for n in range(agents):
        agent_id, submission_id = new_id("agt"), new_id("sub")
        owner = users[n % len(users)]["id"]
        name = f"bot-{n:04d}"
        agent_rows.append(
            {
                "id": agent_id,
                "name": name,
                "name_key": name,
                "game": GAME,
                "owner_id": owner,
                "created_at": start,
                "submission_count": 1,
            }
        )
        submission_rows.append(
            {
                "id": submission_id,
                "agent_id": agent_id,
                "version": 1,
                "status": "active",
                "code_url": "https://git.example.com/bench/bot.git",
                "build_backend": "local",
                "created_at": start,
                "updated_at": start,
            }
        )
    match_rows, player_rows, event_rows = [], [], []
    step = (now - start) / max(1, matches)
    for n in range(matches):
        one, two = rng.sample(range(agents), 2)
        finished = start + step * (n + 1)
        queued = finished - timedelta(seconds=2)
        winner = rng.choice((0, 1, 0, 1, None))
        match_id = new_id("mat")
        match_rows.append(
            {
                "id": match_id,
                "game": GAME,
                "status": "finished",
                "seed": rng.randrange(2**31),
                "ranked": True,
                "winner": winner,
                "scores": json.dumps(_scores(winner)),
                "turns": rng.randint(7, 42),
                "duration_ms": rng.randint(50, 900),
                "attempts": 1,
                "created_at": queued,
                "updated_at": finished,
                "finished_at": finished,
            }
        )
        for seat, index in enumerate((one, two)):
            player_rows.append(
                {
                    "match_id": match_id,
                    "player": seat,
                    "agent_id": agent_rows[index]["id"],
                    "submission_id": submission_rows[index]["id"],
                    "outcome": "DONE",
                }
            )
        for status, at in (("queued", queued), ("running", queued), ("finished", finished)):
            event_rows.append({"match_id": match_id, "status": status, "at": at})
    with engine.begin() as connection:
        for model, rows in (
            (User, users),
            (Agent, agent_rows),
            (Submission, submission_rows),
            (Match, match_rows),
            (MatchPlayer, player_rows),
            (MatchStatusEvent, event_rows),
        ):
            for at in range(0, len(rows), 20_000):
                connection.execute(insert(model), rows[at : at + 20_000])
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        recompute(session)
        session.commit()
    replayed = [row["id"] for row in match_rows[-REPLAYS:]]
    for match_id in replayed:
        _write_replay(settings, match_id, rng)
    engine.dispose()
    return {
        "agents": [row["id"] for row in agent_rows[:REPLAYS]],
        "all_agents": [row["id"] for row in agent_rows],
        "matches": replayed,
    }


def _scores(winner: int | None) -> list[float]:
    if winner is None:
        return [0.0, 0.0]
    return [1.0, -1.0] if winner == 0 else [-1.0, 1.0]


def _write_replay(settings: Any, match_id: str, rng: random.Random) -> None:
    """A connectx game of random legal moves, recorded as the referee records a replay."""
    from botarena.games.registry import get_game
    from botarena.storage import match_dir

    game = get_game(GAME)
    configuration = game.configure({})
    state = game.initial_state(configuration, 0)
    steps: list[dict[str, Any]] = [{"step": 0, "actions": {}, "frame": game.replay_frame(state)}]
    while not game.is_terminal(state):
        (mover,) = game.to_move(state)
        column = rng.choice(
            [c for c in range(configuration["columns"]) if not game.invalid_reason(state, mover, c)]
        )
        state = game.apply(state, {mover: column})
        steps.append(
            {"step": len(steps), "actions": {str(mover): column}, "frame": game.replay_frame(state)}
        )
    replay = {
        "game": GAME,
        "configuration": configuration,
        "seed": 0,
        "steps": steps,
        "winner": game.winner(state),
        "scores": list(game.scores(state)),
        "agents": [{"status": "DONE", "reason": None}] * game.players,
    }
    folder = match_dir(settings, match_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "replay.json").write_text(json.dumps(replay))


# --- the server ----------------------------------------------------------------------------


def _serve(port: int, updates: float) -> None:
    """The server as ``botarena serve`` runs it, with a thread that changes one rating
    ``updates`` times a second while the data folder holds the flag file."""
    sys.path.insert(0, str(ROOT / "src"))
    import uvicorn

    from botarena.app import create_app
    from botarena.cli.server import settle_memory
    from botarena.logging import configure_logging
    from botarena.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    flag = settings.data_dir / UPDATES_FLAG
    threading.Thread(
        target=_change_ratings, args=(app.state.session_factory, flag, updates), daemon=True
    ).start()
    settle_memory()
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def _change_ratings(factory: Any, flag: Path, per_second: float) -> None:
    """Nudge a random rating and commit, through the server's own sessions (so the event bus
    hears it as it hears a finished match)."""
    from sqlalchemy import select

    from botarena.ratings.models import Rating

    rng = random.Random(11)
    ids: list[str] = []
    while True:
        if not flag.exists():
            time.sleep(0.05)
            continue
        with factory() as session:
            if not ids:
                ids = list(session.scalars(select(Rating.submission_id)))
            rating = session.get(Rating, rng.choice(ids))
            rating.mu += 1e-6
            session.commit()
        time.sleep(1 / per_second)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


# --- pages ---------------------------------------------------------------------------------


def _pages(url: str, seeded: dict[str, list[str]], rounds: int) -> dict[str, Any]:
    middle = max(1, len(seeded["all_agents"]) // BOARD_PAGE // 2)  # a page in the middle
    kinds = {
        "leaderboard": lambda n: f"/games/{GAME}",
        "leaderboard_deep": lambda n: f"/games/{GAME}?sort=-games&page={middle}",
        "match": lambda n: f"/matches/{seeded['matches'][n % len(seeded['matches'])]}",
        "agent": lambda n: f"/agents/{seeded['agents'][n % len(seeded['agents'])]}",
        "home": lambda n: "/",
        "matches": lambda n: "/matches",
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    with httpx.Client(base_url=url, timeout=60) as http:
        for path in kinds.values():  # once each, not counted: imports and caches
            http.get(path(0)).raise_for_status()
        for n in range(rounds):
            for kind, path in kinds.items():
                began = time.perf_counter()
                answer = http.get(path(n))
                took = time.perf_counter() - began
                answer.raise_for_status()
                times[kind].append(took * 1000)
    return {
        kind: {
            "p50_ms": round(statistics.median(values), 1),
            "p90_ms": round(_percentile(values, 0.9), 1),
            "max_ms": round(max(values), 1),
            "bytes": len(httpx.get(url + kinds[kind](0)).content),
        }
        for kind, values in times.items()
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- assets --------------------------------------------------------------------------------


def _assets(url: str, seeded: dict[str, list[str]]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    pages = {
        "leaderboard": f"/games/{GAME}",
        "match": f"/matches/{seeded['matches'][0]}",
        "agent": f"/agents/{seeded['agents'][0]}",
        "home": "/",
        "matches": "/matches",
    }
    report: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, path in pages.items():
                fetched: dict[str, bytes] = {}
                page = browser.new_page()

                def keep(response: Any, fetched: dict[str, bytes] = fetched) -> None:
                    kind = response.request.resource_type
                    if response.url.startswith(url) and kind in ("script", "stylesheet"):
                        fetched[response.url.removeprefix(url)] = response.body()

                page.on("response", keep)
                page.goto(url + path, wait_until="networkidle")
                page.close()
                sizes = {
                    f: len(gzip.compress(body, compresslevel=6)) for f, body in fetched.items()
                }
                report[name] = {
                    "compressed_bytes": sum(sizes.values()),
                    "raw_bytes": sum(len(body) for body in fetched.values()),
                    "files": dict(sorted(sizes.items())),
                }
        finally:
            browser.close()
    return report


# --- live listeners ------------------------------------------------------------------------


async def _listeners(url: str, pid: int, flag: Path, args: argparse.Namespace) -> dict[str, Any]:
    cycles = []
    for cycle in range(args.cycles):
        for count in (1, args.listeners):
            measured = await _listening(url, pid, flag, count, args.window)
            cycles.append({"cycle": cycle + 1, "listeners": count, **measured})
    medians: dict[str, dict[str, float]] = {}
    for count in (1, args.listeners):
        rows = [c for c in cycles if c["listeners"] == count]
        medians[str(count)] = {
            key: round(statistics.median(r[key] for r in rows), 4)
            for key in ("idle_cpu", "updating_cpu", "updates_received_min")
        }
    one, many = medians["1"], medians[str(args.listeners)]
    return {
        "listeners": args.listeners,
        "window_seconds": args.window,
        "updates_per_second": args.updates,
        "medians": medians,
        "many_over_one": {
            key: round(many[key] / one[key], 2) if one[key] else None
            for key in ("idle_cpu", "updating_cpu")
        },
        "cycles": cycles,
    }


async def _listening(url: str, pid: int, flag: Path, count: int, window: float) -> dict[str, float]:
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    received = [0] * count
    opened = asyncio.Event()
    connected = 0

    async def listen(number: int, http: httpx.AsyncClient) -> None:
        nonlocal connected
        async with http.stream("GET", f"/live/games/{GAME}") as answer:
            answer.raise_for_status()
            connected += 1
            if connected == count:
                opened.set()
            async for line in answer.aiter_lines():
                if line.startswith("event:"):
                    received[number] += 1

    # A stream stays open as long as the window lasts: no read timeout.
    timeout = httpx.Timeout(30.0, read=None)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as http:
        tasks = [asyncio.create_task(listen(n, http)) for n in range(count)]
        await asyncio.wait_for(opened.wait(), 120)
        await asyncio.sleep(1.0)  # every stream has had its first bytes
        before = _cpu_seconds(pid)
        await asyncio.sleep(window)
        idle = (_cpu_seconds(pid) - before) / window
        start_counts = list(received)
        flag.touch()
        before = _cpu_seconds(pid)
        await asyncio.sleep(window)
        updating = (_cpu_seconds(pid) - before) / window
        flag.unlink()
        await asyncio.sleep(1.0)  # the last update reaches everyone
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    got = [after - before for after, before in zip(received, start_counts, strict=True)]
    return {
        "idle_cpu": round(idle, 4),
        "updating_cpu": round(updating, 4),
        "updates_received_min": min(got),
        "updates_received_max": max(got),
    }


if __name__ == "__main__":
    main()
