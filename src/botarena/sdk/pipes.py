"""Speaking protocol v1 through named pipes instead of stdin and stdout: how an agent in a
Kubernetes match pod reaches the referee, which runs in another container of the pod.

``BOTARENA_PROTOCOL_PIPES`` names a folder holding ``in``, ``out`` and ``err``;
:func:`use_pipes` makes them the process's stdin, stdout and stderr. The agent shim does it
itself; ``python -m botarena.sdk.pipes PROGRAM [ARGS...]`` does it and then becomes
``PROGRAM`` (an agent with a command of its own, in any language), or just becomes it when
the variable is not set (every other runner).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PIPES_ENV = "BOTARENA_PROTOCOL_PIPES"


def use_pipes(folder: Path) -> None:
    """Make the named pipes of ``folder`` this process's stdin, stdout and stderr. The order
    matches the referee's (it holds ``in`` for writing and ``out``/``err`` for reading before
    any agent starts), so each open at worst waits for the referee, never deadlocks."""
    ends = ((0, "in", os.O_RDONLY), (1, "out", os.O_WRONLY), (2, "err", os.O_WRONLY))
    for target, name, flags in ends:
        fd = os.open(folder / name, flags)
        os.dup2(fd, target)
        os.close(fd)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m botarena.sdk.pipes PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    folder = os.environ.get(PIPES_ENV)
    if folder:
        use_pipes(Path(folder))
    try:
        os.execvp(argv[0], argv)  # noqa: S606 - it becomes the agent's own program
    except OSError as exc:
        print(f"botarena: cannot run {argv[0]}: {exc}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
