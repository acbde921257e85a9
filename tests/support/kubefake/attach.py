"""``pods/{name}/attach``: a WebSocket upgrade speaking the channel protocol of the API server
(``v5.channel.k8s.io`` or ``v4.channel.k8s.io``, whichever the client offers first), as the
official client's ``kubernetes.stream.stream`` uses it.

Each binary or text frame starts with its channel: 0 is the container's stdin, 1 and 2 its
stdout and stderr, 3 the error channel, 255 (v5 only) closes the channel named by the next byte.
Only stdin is served: what the client writes on channel 0 goes to the container's
:class:`~.stdin.StdinPipe`; the session ends when the client closes the connection (or, with
v5, closes channel 0), and with ``stdinOnce`` the container's stdin closes with it. ``stdout``
and ``stderr`` are accepted but nothing is sent on them (read the log instead).

As the API server does: 404 for a missing pod, 400 for an unknown container, one waiting to
start, or one that has terminated, and 400 when the container was not created with
``stdin: true`` but the client asks for stdin.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import struct
from typing import TYPE_CHECKING, BinaryIO

from . import podstatus
from .errors import ApiError, bad_request
from .http import Request
from .resources import PODS
from .stdin import StdinPipe

if TYPE_CHECKING:
    from .cluster import Cluster

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
STDIN, CLOSE = 0, 255
_TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x1, 0x2, 0x8, 0x9, 0xA
_LARGEST_FRAME = 64 * 2**20


def pod_attach(cluster: Cluster, request: Request, namespace: str, name: str) -> None:
    pod = cluster.store.get(PODS, namespace, name)
    containers = {c["name"]: c for c in pod["spec"]["containers"]}
    container_name = request.query.get("container")
    if not container_name:
        if len(containers) != 1:
            raise bad_request(
                f"a container name must be specified for pod {name}, choose one of: "
                f"[{' '.join(containers)}]"
            )
        container_name = next(iter(containers))
    container = containers.get(container_name)
    if container is None:
        raise bad_request(f"container {container_name} is not valid for pod {name}")
    state = (podstatus.container_status(pod, container_name) or {}).get("state") or {}
    if "running" not in state:
        if "terminated" in state:
            raise bad_request(f"cannot attach to a container that has terminated: {container_name}")
        reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
        raise bad_request(
            f'container "{container_name}" in pod "{name}" is waiting to start: {reason}'
        )
    wants_stdin = request.flag("stdin")
    if wants_stdin and not container.get("stdin"):
        raise bad_request(
            f"container {container_name} in pod {name} was not created with stdin: true"
        )
    headers = request.handler.headers
    if (headers.get("Upgrade") or "").lower() != "websocket":
        raise bad_request("attach needs a WebSocket upgrade (Upgrade: websocket)")
    offered = [p.strip() for p in (headers.get("Sec-WebSocket-Protocol") or "").split(",")]
    protocol = next((p for p in offered if p in PROTOCOLS), None)
    if protocol is None:
        raise ApiError(400, "BadRequest", f"none of the subprotocols {offered} is supported")
    pipe = cluster.stdin(pod["metadata"]["uid"], container) if wants_stdin else None
    if pipe is not None and not pipe.open_session():
        pipe = None  # stdinOnce and an earlier session ended: nothing more goes in
    _upgrade(request, headers.get("Sec-WebSocket-Key") or "", protocol)
    try:
        _serve(request, protocol, pipe)
    finally:
        if pipe is not None:
            pipe.end_session()
        request.handler.close_connection = True
        with contextlib.suppress(OSError):
            request.handler.connection.shutdown(socket.SHUT_RDWR)


def _upgrade(request: Request, key: str, protocol: str) -> None:
    accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()  # noqa: S324
    handler = request.handler
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept)
    handler.send_header("Sec-WebSocket-Protocol", protocol)
    handler.end_headers()
    handler.wfile.flush()


def _serve(request: Request, protocol: str, pipe: StdinPipe | None) -> None:
    reader, writer = request.handler.rfile, request.handler.wfile
    message = bytearray()
    while True:
        try:
            frame = _read_frame(reader)
        except (OSError, EOFError):
            return
        final, opcode, payload = frame
        if opcode == _PING:
            _write_frame(writer, _PONG, payload)
            continue
        if opcode == _CLOSE:
            with contextlib.suppress(OSError):
                _write_frame(writer, _CLOSE, payload[:2])
            return
        if opcode == _PONG:
            continue
        message += payload
        if not final:
            continue
        data, message = bytes(message), bytearray()
        if not data:
            continue
        channel, body = data[0], data[1:]
        if channel == CLOSE and protocol.startswith("v5") and body[:1] == bytes([STDIN]):
            if pipe is not None:
                pipe.end_session()
                pipe = None
            continue
        if channel == STDIN and pipe is not None:
            pipe.write(body)


def _read_exactly(reader: BinaryIO, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = reader.read(count - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _read_frame(reader: BinaryIO) -> tuple[bool, int, bytes]:
    first, second = _read_exactly(reader, 2)
    final, opcode = bool(first & 0x80), first & 0x0F
    masked, length = bool(second & 0x80), second & 0x7F
    if length == 126:
        (length,) = struct.unpack(">H", _read_exactly(reader, 2))
    elif length == 127:
        (length,) = struct.unpack(">Q", _read_exactly(reader, 8))
    if length > _LARGEST_FRAME:
        raise EOFError
    mask = _read_exactly(reader, 4) if masked else b""
    payload = _read_exactly(reader, length)
    if masked:
        key = (mask * (length // 4 + 1))[:length]
        unmasked = int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")
        payload = unmasked.to_bytes(length, "big")
    return final, opcode, payload


def _write_frame(writer: BinaryIO, opcode: int, payload: bytes) -> None:
    """A server's frame: unmasked, unfragmented."""
    length = len(payload)
    if length < 126:
        header = struct.pack(">BB", 0x80 | opcode, length)
    elif length < 2**16:
        header = struct.pack(">BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack(">BBQ", 0x80 | opcode, 127, length)
    writer.write(header + payload)
    writer.flush()
