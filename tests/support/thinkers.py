"""Agents that keep thinking, and the processes they think in, seen from this machine.

A thinker waits on a child process whose command line carries a mark of the test's own, so
the test finds each agent's process on the host (the child's parent), whichever runner or
sandbox started it, and can tell when every one of them is gone.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path


def new_mark() -> str:
    """A mark no other test's process carries."""
    return f"thinking-{secrets.token_hex(6)}"


def thinker(mark: str, seconds: float = 0.8) -> bytes:
    """A ConnectX agent that thinks ``seconds`` per turn in real matches (a child process
    carrying ``mark``), and answers at once in the build's short validation match."""
    return (
        "import subprocess, sys\n"
        "def agent(obs, conf):\n"
        "    if conf.episodeSteps > 12:\n"
        f"        subprocess.run([sys.executable, '-c', 'import time; time.sleep({seconds})',"
        f" {mark!r}], check=True)\n"
        "    return [c for c in range(conf.columns) if obs.board[c] == 0][0]\n"
    ).encode()


def marked(mark: str) -> dict[int, int]:
    """Each live process carrying ``mark`` and its parent (the agent thinking in it)."""
    found: dict[int, int] = {}
    needle = mark.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "cmdline").read_bytes().split(b"\0"):
                continue
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:"):
                found[int(entry.name)] = int(line.split()[1])
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def thinking_agents(mark: str, count: int, seconds: float) -> set[int]:
    """The agent processes seen thinking, once ``count`` distinct ones were; fails the test
    after ``seconds``."""
    agents: set[int] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        agents.update(marked(mark).values())
        if len(agents) >= count:
            return agents
        time.sleep(0.02)
    raise AssertionError(f"saw {len(agents)} of {count} agents thinking")


def gone_after(mark: str, agents: set[int], seconds: float) -> float:
    """Seconds until no process carries ``mark`` and none of ``agents`` lives; fails the
    test after ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if not marked(mark) and not any(alive(pid) for pid in agents):
            return time.monotonic() - started
        time.sleep(0.01)
    left = sorted(pid for pid in agents if alive(pid))
    raise AssertionError(f"agent processes still running after {seconds} s: {left}")
