"""What the referee needs of a running agent, whichever runner started it."""

from __future__ import annotations

from typing import IO, Protocol


class AgentProcess(Protocol):
    """A started agent: its three pipes, whether it still runs, and why it stopped."""

    @property
    def stdin(self) -> IO[bytes]: ...

    @property
    def stdout(self) -> IO[bytes]: ...

    @property
    def stderr(self) -> IO[bytes]: ...

    def poll(self) -> int | None:
        """The exit code once it has exited, else None."""
        ...

    def exit_reason(self) -> str:
        """One sentence on how it ended: an exit code, a signal, out of memory."""
        ...

    def close(self) -> None:
        """Kill whatever is left of it and release everything it held; idempotent."""
        ...
