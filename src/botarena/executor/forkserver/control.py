"""The host's end of a zygote's control socket: JSON messages, with descriptors attached.

Each message is one SEQPACKET datagram, so no framing is needed and descriptors travel with
the request they belong to. Every read is bounded by a timeout.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time
from collections.abc import Sequence
from typing import Any

from botarena.executor.sandbox import SandboxError

MESSAGE_BYTES = 65536
# A zygote reads each request at once; a full socket buffer means it is stuck.
SEND_TIMEOUT = 10.0


class ZygoteGone(SandboxError):  # noqa: N818 - it names a state, like SandboxUnavailable
    """The zygote hung up or can no longer be talked to."""


def control_pair() -> tuple[socket.socket, socket.socket]:
    """``(host end, zygote end)``; only the zygote's end may be inherited, and only by it."""
    host, zygote = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    return host, zygote


class ControlChannel:
    """Sends requests and reads replies; after a hang-up every call raises :class:`ZygoteGone`."""

    def __init__(self, sock: socket.socket) -> None:
        sock.settimeout(SEND_TIMEOUT)
        self._sock = sock
        self.gone = False

    def send(self, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
        self._check()
        try:
            socket.send_fds(self._sock, [json.dumps(message).encode()], list(fds))
        except OSError as exc:
            self.gone = True
            raise ZygoteGone(f"the fork server cannot be reached: {exc}") from exc

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or ``None`` if none came within ``timeout`` seconds."""
        self._check()
        deadline = time.monotonic() + timeout
        while True:
            ready, _, _ = select.select([self._sock], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                break
            if time.monotonic() >= deadline:
                return None
        try:
            data = self._sock.recv(MESSAGE_BYTES)
        except OSError as exc:
            self.gone = True
            raise ZygoteGone(f"the fork server's socket failed: {exc}") from exc
        if not data:
            self.gone = True
            raise ZygoteGone("the fork server hung up")
        try:
            message = json.loads(data)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self.gone = True
            raise ZygoteGone("the fork server sent something that is not a JSON object")
        return message

    def close(self) -> None:
        self.gone = True
        with contextlib.suppress(OSError):
            self._sock.close()

    def _check(self) -> None:
        if self.gone:
            raise ZygoteGone("the fork server has hung up")
