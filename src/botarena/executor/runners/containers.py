"""One agent in a container, seen by the referee as a process with three pipes.

The container is created with its standard streams open and attached *before* it starts, so
nothing it writes is lost. The engine multiplexes stdout and stderr over one connection; a
pump thread splits them into two real pipes (the referee waits on file descriptors), and a
second thread forwards what the referee writes to the container's stdin. Both threads block
on their pipes, so a referee that stops reading slows the container down instead of
buffering without end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from collections.abc import Callable
from typing import IO, Any

import docker
import docker.errors
from docker.utils.socket import STDERR, frames_iter

from botarena.closing import Closing
from botarena.executor.sandbox.exits import ExitStatus, ReportsExit

_CHUNK = 65536
_REMOVE_TIMEOUT = 30


class ContainerProcess(ReportsExit, Closing):
    """A started container: pipes for the referee, its exit status, and its removal."""

    def __init__(
        self,
        client: docker.DockerClient,
        container_id: str,
        stream: Any,
        *,
        memory_limit_bytes: int | None,
        remove: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self._remove = remove
        self.container_id = container_id
        self._stream = stream
        self._socket: socket.socket = getattr(stream, "_sock", stream)
        self._memory_limit = memory_limit_bytes
        self._exit: ExitStatus | None = None
        self._closed = False
        self._stopped_by_host = False
        stdin_r, stdin_w = os.pipe()
        stdout_r, self._stdout_w = os.pipe()
        stderr_r, self._stderr_w = os.pipe()
        self._stdin_r = stdin_r
        self.stdin: IO[bytes] = os.fdopen(stdin_w, "wb", buffering=0)
        self.stdout: IO[bytes] = os.fdopen(stdout_r, "rb", buffering=0)
        self.stderr: IO[bytes] = os.fdopen(stderr_r, "rb", buffering=0)
        self._output_done = threading.Event()
        self._threads = [
            threading.Thread(target=self._pump_output, name=f"out-{container_id[:12]}"),
            threading.Thread(target=self._pump_input, name=f"in-{container_id[:12]}"),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    # -- the pumps -----------------------------------------------------------------------
    def _pump_output(self) -> None:
        try:
            for kind, data in frames_iter(self._stream, tty=False):  # type: ignore[no-untyped-call]
                _write_all(self._stderr_w if kind == STDERR else self._stdout_w, data)
        except (OSError, ValueError):
            pass  # the connection or a pipe closed: the container is done or being removed
        finally:
            for fd in (self._stdout_w, self._stderr_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._output_done.set()

    def _pump_input(self) -> None:
        try:
            while data := os.read(self._stdin_r, _CHUNK):
                self._socket.sendall(data)
            # The referee closed stdin: let the container read its end of file.
            self._socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                os.close(self._stdin_r)

    # -- the process interface -----------------------------------------------------------
    def poll(self) -> int | None:
        status = self.exit_status()
        if status is None:
            return None
        return status.code if status.code is not None else -(status.signal or 0)

    def exit_status(self) -> ExitStatus | None:
        """How it ended, once it has; None while it runs."""
        if self._exit is None and self._output_done.is_set():
            self._exit = self._inspect()
        return self._exit

    def _inspect(self) -> ExitStatus | None:
        try:
            state = self._client.api.inspect_container(self.container_id)["State"]
        except Exception:  # gone: removed by someone else
            return None
        if state.get("Running"):
            return None
        code = int(state.get("ExitCode", 0))
        # The engine reports a death by signal N as exit code 128 + N.
        killed = None
        if code > 128 and code - 128 in {s.value for s in signal.Signals}:
            killed = signal.Signals(code - 128)
        return ExitStatus(
            code=None if killed else code,
            signal=int(killed) if killed else None,
            out_of_memory=bool(state.get("OOMKilled")),
            stopped_by_host=self._stopped_by_host,
            memory_limit_bytes=self._memory_limit,
        )

    def close(self) -> None:
        """Kill and remove the container and close the pipes; idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._exit is None and not self._output_done.is_set():
            self._stopped_by_host = True
        # Our ends first: an engine still copying a flood of output to us would otherwise
        # hold the removal until the copy ends.
        for pipe in (self.stdin, self.stdout, self.stderr):
            with contextlib.suppress(OSError):
                pipe.close()
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._stream.close()
        if self._remove is not None:
            self._remove(self.container_id)  # in the background, by the runner's pool
        else:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                self._client.api.remove_container(self.container_id, force=True)
        for thread in self._threads:
            thread.join(_REMOVE_TIMEOUT)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
