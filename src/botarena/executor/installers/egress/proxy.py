"""A build's only way out: an allow-listing HTTP proxy on a Unix socket, one per install.

The install sandbox has a network namespace of its own with nothing but a loopback
interface; the socket of this proxy, in a fresh folder only its owner may enter, is bound
into it, and the install program relays pip's proxy connections to it (see
:mod:`botarena.executor.installers.inside`). The proxy runs in the server process, on an
event loop in a thread of its own, and admits what :class:`EgressPolicy` admits: it tunnels
``CONNECT`` to allowed names and sends plain ``http://`` requests on, connecting to the
address it resolved itself (or through the host's own proxy, see :mod:`.upstream`).

Every refusal is a 403 whose body says why, a line in the build's log with "refused by
policy" in it, and a structured log line. It is bounded: a cap on connections at once,
timeouts on reading a request, on connecting and on idle relays, a cap on the lines it writes
to the build's log; :meth:`EgressProxy.close` ends every relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from botarena.closing import Closing
from botarena.executor.installers.egress.messages import (
    HEAD_END,
    MalformedRequestError,
    ProxyRequest,
    answer,
    parse_request,
    status_of,
)
from botarena.executor.installers.egress.policy import EgressError, EgressPolicy
from botarena.executor.installers.egress.relay import relay
from botarena.executor.installers.egress.upstream import Upstreams

SOCKET_NAME = "proxy.sock"
_MAX_LOG_LINES = 200
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0

log = structlog.get_logger(__name__)

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass(frozen=True)
class ProxyLimits:
    """How much one build's proxy takes on; durations in seconds."""

    max_connections: int = 32
    head_timeout: float = 30.0
    connect_timeout: float = 30.0
    idle_timeout: float = 120.0
    max_head_bytes: int = 16 * 1024


class EgressProxy(Closing):
    """Listens on ``folder / proxy.sock`` from :meth:`start` to :meth:`close`, and on TCP
    at ``listen`` (``(host, port)``, port 0 for any) when given: for builds that run where
    no socket can be bound in, such as an engine's image builds."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        upstreams: Upstreams | None = None,
        on_output: Callable[[str], None] | None = None,
        limits: ProxyLimits | None = None,
        name: str = "build",
        listen: tuple[str, int] | None = None,
    ) -> None:
        self.policy = policy
        self.upstreams = upstreams or Upstreams()
        self.limits = limits or ProxyLimits()
        self.name = name
        self.folder = Path(tempfile.mkdtemp(prefix="botarena-egress-"))  # mode 0700
        self.refusals = 0
        self.tcp_address: tuple[str, int] | None = None  # where ``listen`` ended up
        self._listen = listen
        self._on_output = on_output
        self._lines = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"egress-{name}", daemon=True)

    @property
    def socket_path(self) -> Path:
        return self.folder / SOCKET_NAME

    def start(self) -> EgressProxy:
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT) or self._failure is not None:
            self.close()
            raise OSError(f"the egress proxy did not start: {self._failure!r}")
        return self

    def close(self) -> None:
        """Stop listening, end every relay, remove the socket's folder. Safe to call again."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended already
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(_STOP_TIMEOUT)
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- the loop's thread -----------------------------------------------------------------
    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start(); the thread ends
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        limit = self.limits.max_head_bytes
        servers = [
            await asyncio.start_unix_server(self._serve, path=str(self.socket_path), limit=limit)
        ]
        if self._listen is not None:
            host, port = self._listen
            servers.append(await asyncio.start_server(self._serve, host, port, limit=limit))
            bound = servers[-1].sockets[0].getsockname()
            self.tcp_address = (str(bound[0]), int(bound[1]))
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            for server in servers:
                server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for server in servers:
                await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a callback of the server always runs in a task
        self._tasks.add(task)
        try:
            if len(self._tasks) > self.limits.max_connections:
                limit = self.limits.max_connections
                await self._send(writer, 503, f"egress refused: over {limit} connections at once")
                return
            await self._handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            pass  # the build's side went away or stalled: nothing to answer
        except asyncio.CancelledError:
            # The proxy is closing. The task ends normally: the server's callback would
            # otherwise report the cancellation as an error.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(HEAD_END), self.limits.head_timeout)
            request = parse_request(head)
        except asyncio.LimitOverrunError:
            await self._refuse(writer, 400, "egress refused by policy: a request head too long")
            return
        except MalformedRequestError as exc:
            await self._refuse(writer, 400, f"egress refused by policy: {exc}")
            return
        try:
            upstream = await self._open(request)
        except EgressError as exc:
            await self._refuse(writer, exc.status, str(exc))
            return
        kind = "tunnel to" if request.tunnel else "request to"
        self._say(f"egress: {kind} {request.endpoint}")
        try:
            if request.tunnel:
                await self._send(writer, 200)
            await relay((reader, writer), upstream, self.limits.idle_timeout)
        finally:
            upstream[1].close()

    async def _open(self, request: ProxyRequest) -> Streams:
        """A connection on to where ``request`` goes, ready for the relay."""
        endpoint = request.endpoint
        self.policy.check(endpoint)
        upstream = self.upstreams.for_request(endpoint, tunnel=request.tunnel)
        if upstream is None:
            streams = await self._connect_to_address(request)
            streams[1].write(request.origin_head)
            return streams
        streams = await self._connect(upstream.endpoint.host, upstream.endpoint.port)
        reader, writer = streams
        if not request.tunnel:
            # The head ends with a blank line: the proxy's credentials go just before it.
            writer.write(request.proxy_head[:-2] + upstream.header() + b"\r\n")
            return streams
        writer.write(f"CONNECT {endpoint} HTTP/1.1\r\nHost: {endpoint}\r\n".encode())
        writer.write(upstream.header() + b"\r\n")
        try:
            head = await asyncio.wait_for(reader.readuntil(HEAD_END), self.limits.connect_timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            head = b""
        status, line = status_of(head)
        if status != 200:
            writer.close()
            raise EgressError(f"egress failed: the upstream proxy answered {line!r} for {endpoint}")
        return streams

    async def _connect_to_address(self, request: ProxyRequest) -> Streams:
        endpoint = request.endpoint
        failure = "no address"
        for address in await self.policy.addresses(endpoint):
            try:
                return await self._connect(str(address), endpoint.port)
            except EgressError as exc:
                failure = str(exc)
        raise EgressError(f"egress failed: cannot connect to {endpoint} ({failure})")

    async def _connect(self, host: str, port: int) -> Streams:
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(host, port), self.limits.connect_timeout
            )
        except TimeoutError:
            raise EgressError("timed out") from None
        except OSError as exc:
            raise EgressError(exc.strerror or type(exc).__name__) from None

    # -- answers and log lines -------------------------------------------------------------
    async def _refuse(self, writer: asyncio.StreamWriter, status: int, sentence: str) -> None:
        if status != EgressError.status:
            self.refusals += 1
        if self.refusals <= _MAX_LOG_LINES:
            log.warning("build egress refused", build=self.name, status=status, reason=sentence)
        self._say(sentence)
        await self._send(writer, status, sentence)

    async def _send(self, writer: asyncio.StreamWriter, status: int, text: str = "") -> None:
        writer.write(answer(status, text))
        await asyncio.wait_for(writer.drain(), self.limits.head_timeout)

    def _say(self, line: str) -> None:
        if self._on_output is None:
            return
        self._lines += 1
        if self._lines < _MAX_LOG_LINES:
            self._on_output(line)
        elif self._lines == _MAX_LOG_LINES:
            self._on_output("egress: further connections and refusals are not shown")
