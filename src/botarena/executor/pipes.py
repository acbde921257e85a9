"""Agents reached through named pipes in a shared folder: how the referee of a Kubernetes match
pod talks to agents that run in containers of their own.

Each player has a folder ``{root}/p{player}`` holding three FIFOs: ``in`` (the referee writes
protocol messages, the agent reads them as its stdin), ``out`` (the agent's replies) and
``err`` (its log). The folders and FIFOs are made before any agent starts (an init container
of the match pod) by the referee's user, not the agents': an agent may open its pipes (mode
0666) but not write anything else into its folder (mode 0755, not its own), so it cannot
fill the shared volume. Each agent's container mounts only its own folder, so no agent can
reach another's pipes.

The referee never blocks opening its ends: it opens ``out`` and ``err`` for reading without
blocking (a FIFO's reader needs no writer yet), and ``in`` for reading and writing (which
Linux opens at once), so an agent that never starts costs its startup time, not a hang.
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
from pathlib import Path
from typing import IO

from botarena.sdk.pipes import PIPES_ENV

__all__ = ["PIPES_ENV", "PipeAgent", "make_pipes", "player_folder", "player_folder_name"]
PIPE_NAMES = ("in", "out", "err")
# The agent (another user) opens its pipes; it may not add files to its folder.
_FIFO_MODE = 0o666
_FOLDER_MODE = 0o755


def player_folder_name(player: int) -> str:
    """The name of ``player``'s folder in the shared folder."""
    return f"p{player}"


def player_folder(root: Path, player: int) -> Path:
    """The folder of ``player``'s pipes under the shared ``root``."""
    return root / player_folder_name(player)


def make_pipes(root: Path, players: int) -> list[Path]:
    """Make each player's folder and FIFOs (idempotent); their folders, player 0 first."""
    folders = []
    for player in range(players):
        folder = player_folder(root, player)
        folder.mkdir(exist_ok=True)
        folder.chmod(_FOLDER_MODE)  # whatever the umask
        for name in PIPE_NAMES:
            path = folder / name
            if not path.exists():
                os.mkfifo(path)
            elif not stat.S_ISFIFO(path.stat().st_mode):
                raise OSError(f"{path} exists and is not a named pipe")
            path.chmod(_FIFO_MODE)
        folders.append(folder)
    return folders


class PipeAgent:
    """One agent seen through its FIFOs, as the referee needs it (see ``AgentProcess``).

    Its process is in another container: the referee cannot see its exit code. It has ended
    when both its output pipes have lost their writer after having had one; the pod's status
    tells the rest (the runner reads it)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
        self._out = os.open(folder / "out", flags)
        self._err = os.open(folder / "err", flags)
        self._in = os.open(folder / "in", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        self.stdin: IO[bytes] = os.fdopen(self._in, "wb", buffering=0, closefd=False)
        self.stdout: IO[bytes] = os.fdopen(self._out, "rb", buffering=0, closefd=False)
        self.stderr: IO[bytes] = os.fdopen(self._err, "rb", buffering=0, closefd=False)
        self._closed = False
        self._ended = False

    def poll(self) -> int | None:
        """0 once its output pipes hung up (its process ended or closed them), else None."""
        if self._closed or self._ended:
            return 0
        poller = select.poll()
        for fd in (self._out, self._err):
            poller.register(fd, select.POLLIN)
        hung_up = {fd for fd, events in poller.poll(0) if events & select.POLLHUP}
        self._ended = hung_up == {self._out, self._err}
        return 0 if self._ended else None

    def exit_reason(self) -> str:
        return "exited (its output pipes closed)"

    def close(self) -> None:
        """Close the referee's ends: the agent reads the end of its input and should exit."""
        if self._closed:
            return
        self._closed = True
        for stream in (self.stdin, self.stdout, self.stderr):
            with contextlib.suppress(OSError):
                stream.close()
        for fd in (self._in, self._out, self._err):
            with contextlib.suppress(OSError):
                os.close(fd)
