"""Warm agent containers: created, attached and started before the match that needs them.

Starting a container costs the engine ~0.1 s with runc (creating one ~0.01 s, removing one
~0.05 s); a match starts two. The pool keeps a few containers per image already started, with
the same confinement as a cold one (the runner's host config), whose first process is a
waiter of ours, not the agent: ``/bin/sh`` prints one line, reads one line from stdin and then
``exec``s the image's command. Taking a container sends that line, so the agent's program
starts when its match starts (its clock, its imports, its module code), as on a cold start,
and it is PID 1 of its container as before, so exit codes and out-of-memory kills read the
same. Nothing of an agent runs before its match, and a container is taken once: it leaves
the pool when taken and is removed when its agent's match is over.

Each image's warm containers are checked at every take against what the reference names now:
a rebuilt or deleted image discards them. A container that died while waiting (an engine
restart) is discarded too; the take then falls back to a cold start, so an engine problem
costs speed, never a match. Containers are labelled with the process that warmed them, so a
later process on the same host removes those of a process that died (``sweep_stale``, run
when a pool starts). A container waits at most ``max_idle`` seconds, then makes way for a new
one.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
import structlog
from docker.utils.socket import next_frame_header, read_exactly

log = structlog.get_logger(__name__)

WARM_LABEL = "io.botarena.warm"
# Prints a line when ready, waits for one on stdin, then becomes the agent. dash and bash read
# a pipe one byte at a time, so nothing meant for the agent is consumed; end of file (the pool
# let it go) ends it.
WAIT_SCRIPT = 'echo; read -r _ || exit 0; exec "$@"'
_READY_TIMEOUT = 20.0
_RETRY_SECONDS = 2.0
_REMOVE_TIMEOUT = 30.0
_REMOVALS_BEHIND = 8
# A container waits at most this long: an image the agent built from its own Dockerfile brings
# its own /bin/sh, which could think ahead while it "waits"; this bounds that head start.
MAX_IDLE_SECONDS = 120.0

Key = tuple[str, tuple[str, ...] | None]
# (image id, the image's command, the warming process's label) -> (container id, its stream)
Create = Callable[[str, list[str], str], tuple[str, Any]]


@dataclass
class WarmContainer:
    """A started container waiting for its agent's match."""

    container_id: str
    stream: Any
    image_id: str
    warmed_at: float = field(default_factory=time.monotonic)

    def release(self) -> None:
        """Start the agent: the waiter reads this line and execs the image's command."""
        sock: socket.socket = getattr(self.stream, "_sock", self.stream)
        sock.sendall(b"go\n")


@dataclass
class _Slot:
    """The warm containers of one image and command, and when it was last asked for."""

    idle: deque[WarmContainer] = field(default_factory=deque)
    warming: int = 0
    last_asked: float = 0.0
    wanted: bool = False
    unusable: bool = False


def process_label() -> str:
    """Who warmed a container: this host and process, with the process's start time (a pid
    alone may have been reused by another process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_ticks(os.getpid())}"


def _start_ticks(pid: int) -> str:
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[1].split()[19]


def owner_alive(label: str) -> bool:
    """Whether the process a ``process_label`` names is alive (another host's: assumed so)."""
    host, _, rest = label.partition(":")
    pid, _, ticks = rest.partition(":")
    if host != socket.gethostname():
        return True  # another host's: not ours to judge
    if not pid.isdigit():
        return False
    return _start_ticks(int(pid)) == ticks


class WarmPool:
    """Up to ``per_image`` warm containers per image, ``total`` in all, refilled by a thread
    of its own; ``close`` removes every container it warmed or was handed back."""

    def __init__(
        self,
        client: docker.DockerClient,
        create: Create,
        *,
        per_image: int,
        total: int,
        max_idle: float = MAX_IDLE_SECONDS,
    ) -> None:
        self.client = client
        self.max_idle = max_idle
        self._create = create
        self.per_image = per_image
        self.total = total
        self.label = process_label()
        self.hits = 0
        self.misses = 0
        self._slots: OrderedDict[Key, _Slot] = OrderedDict()
        self._images: dict[Key, str] = {}  # the image id each key's containers were made of
        self._lock = threading.Condition()
        self._removals: deque[tuple[str, Any]] = deque()
        self._closed = False
        self._draining = False
        self._threads = [
            threading.Thread(target=self._fill_loop, name="warm-fill", daemon=True),
            threading.Thread(target=self._remove_loop, name="warm-remove", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # -- taking ----------------------------------------------------------------------------
    def take(self, image: str, command: tuple[str, ...] | None) -> WarmContainer | None:
        """A warm container of what ``image`` names now, already released to run its agent,
        or None (then start one cold). Asking also keeps the image warm for next time."""
        key: Key = (image, command)
        try:
            image_id: str = self.client.api.inspect_image(image)["Id"]  # type: ignore[no-untyped-call]
        except Exception:  # deleted, not pulled yet, or the engine does not answer
            self._forget(key, "the image cannot be inspected")
            self._ask(key)
            return None
        while True:
            with self._lock:
                slot = self._ask(key)
                if self._images.get(key) != image_id:
                    self._discard(key, slot, "the image was replaced")
                    self._images[key] = image_id
                    slot.unusable = False
                    self.misses += 1
                    return None
                if not slot.idle:
                    self.misses += 1
                    return None
                warm = slot.idle.popleft()
                self._lock.notify_all()
            if self._running(warm):
                try:
                    warm.release()
                except OSError:
                    self.hand_back(warm.container_id, warm.stream)
                    continue
                with self._lock:
                    self.hits += 1
                return warm
            log.info("a warm container died while waiting", container=warm.container_id[:12])
            self.hand_back(warm.container_id, warm.stream)

    def warm(self, image: str, command: tuple[str, ...] | None, *, timeout: float) -> bool:
        """Ask for ``image`` to be kept warm and wait until its containers are ready; False
        when they are not within ``timeout`` seconds."""
        key: Key = (image, command)
        image_id = self.client.api.inspect_image(image)["Id"]  # type: ignore[no-untyped-call]
        deadline = time.monotonic() + timeout
        with self._lock:
            slot = self._ask(key, wanted=True)
            if self._images.get(key) != image_id:
                self._discard(key, slot, "the image was replaced")
                self._images[key] = image_id
                slot.unusable = False
            while len(self._slots[key].idle) < min(self.per_image, self.total):
                left = deadline - time.monotonic()
                if left <= 0 or self._slots[key].unusable:
                    return False
                self._lock.wait(left)
        return True

    def hand_back(self, container_id: str, stream: Any = None) -> None:
        """Remove a container in the background (a used one, or one discarded); at once when
        the pool is closed or the removals fall behind (an agent that does not end by itself
        runs until removed)."""
        with self._lock:
            if not self._closed and len(self._removals) < _REMOVALS_BEHIND:
                self._removals.append((container_id, stream))
                self._lock.notify_all()
                return
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
        with contextlib.suppress(Exception):
            self.client.api.remove_container(container_id, force=True)
            self._lock.notify_all()

    def _ask(self, key: Key, *, wanted: bool = False) -> _Slot:
        """Note that ``key`` was asked for. An image is kept warm once it is asked for again
        within ``max_idle`` (or warmed on purpose): on a ladder of many agents, one that
        plays once in a while costs no containers started for nothing."""
        with self._lock:
            slot = self._slots.setdefault(key, _Slot())
            now = time.monotonic()
            if wanted or (slot.last_asked and now - slot.last_asked < self.max_idle):
                slot.wanted = True
            slot.last_asked = now
            self._slots.move_to_end(key)
            self._lock.notify_all()
            return slot

    def _forget(self, key: Key, why: str) -> None:
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None:
                self._discard(key, slot, why)
            self._images.pop(key, None)

    def _discard(self, key: Key, slot: _Slot, why: str) -> None:
        if slot.idle:
            log.info("warm containers discarded", image=key[0], count=len(slot.idle), reason=why)
        while slot.idle:
            warm = slot.idle.popleft()
            self._removals.append((warm.container_id, warm.stream))
        self._lock.notify_all()

    def _running(self, warm: WarmContainer) -> bool:
        try:
            state = self.client.api.inspect_container(warm.container_id)["State"]
        except Exception:
            return False
        return bool(state.get("Running"))

    # -- filling ---------------------------------------------------------------------------
    def _count(self) -> int:
        return sum(len(s.idle) + s.warming for s in self._slots.values())

    def _next_to_fill(self) -> tuple[Key, str] | None:
        """The most recently asked-for image short of containers, making room under the
        total by removing those of the least recently asked-for ones."""
        for key in reversed(self._slots):
            slot = self._slots[key]
            image_id = self._images.get(key)
            if (
                not slot.wanted
                or slot.unusable
                or image_id is None
                or len(slot.idle) + slot.warming >= self.per_image
            ):
                continue
            for other in self._slots:
                if self._count() < self.total or other == key:
                    break
                victim = self._slots[other]
                while victim.idle and self._count() >= self.total:
                    evicted = victim.idle.pop()
                    self._removals.append((evicted.container_id, evicted.stream))
            if self._count() >= self.total:
                return None
            slot.warming += 1
            return key, image_id
        return None

    def _expire(self) -> None:
        """Hand back the containers that have waited longer than ``max_idle``."""
        oldest = time.monotonic() - self.max_idle
        for key, slot in list(self._slots.items()):
            while slot.idle and slot.idle[0].warmed_at < oldest:
                expired = slot.idle.popleft()
                self._removals.append((expired.container_id, expired.stream))
                self._lock.notify_all()
            if slot.last_asked < oldest:
                # Not played lately: stop warming it, and forget it once it holds nothing.
                slot.wanted = False
                if not slot.idle and not slot.warming:
                    del self._slots[key]
                    self._images.pop(key, None)

    def _fill_loop(self) -> None:
        self.sweep_stale()
        while True:
            with self._lock:
                job = None
                while not self._closed:
                    self._expire()
                    job = self._next_to_fill()
                    if job is not None:
                        break
                    self._lock.wait(self.max_idle / 4)
                if self._closed or job is None:
                    return
            key, image_id = job
            warm = self._make(key, image_id)
            with self._lock:
                slot = self._slots[key]
                slot.warming -= 1
                if warm is not None and self._images.get(key) == image_id and not self._closed:
                    slot.idle.append(warm)
                elif warm is not None:
                    self._removals.append((warm.container_id, warm.stream))
                self._lock.notify_all()
            if warm is None:
                time.sleep(_RETRY_SECONDS)  # the engine is failing: let it breathe

    def _make(self, key: Key, image_id: str) -> WarmContainer | None:
        try:
            command = self._image_command(image_id, key[1])
            container_id, stream = self._create(image_id, command, self.label)
        except Exception as exc:
            log.warning(
                "a container could not be warmed: cold starts", image=key[0], error=str(exc)
            )
            return None
        try:
            _read_ready(stream)
        except Exception as exc:
            # No /bin/sh in the image, or it died at once: that image starts cold from now.
            log.warning("the image cannot be kept warm: cold starts", image=key[0], error=str(exc))
            with self._lock:
                self._slots[key].unusable = True
            self.hand_back(container_id, stream)
            return None
        return WarmContainer(container_id, stream, image_id)

    def _image_command(self, image_id: str, given: tuple[str, ...] | None) -> list[str]:
        """What a cold start runs: the image's entrypoint, then ``given`` or its command."""
        config = self.client.api.inspect_image(image_id)["Config"]  # type: ignore[no-untyped-call]
        arguments = list(given) if given else (config.get("Cmd") or [])
        command = [*(config.get("Entrypoint") or []), *arguments]
        if not command:
            raise ValueError("the image has no command")
        return command

    # -- removing --------------------------------------------------------------------------
    def _remove_loop(self) -> None:
        while True:
            with self._lock:
                while not self._removals and not self._draining:
                    self._lock.wait()
                if not self._removals:
                    return
                container_id, stream = self._removals.popleft()
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
            with contextlib.suppress(Exception):
                self.client.api.remove_container(container_id, force=True)
            with self._lock:
                self._lock.notify_all()

    def sweep_stale(self) -> int:
        """Remove the warm containers of processes of this host that are gone; how many."""
        try:
            found = self.client.api.containers(all=True, filters={"label": WARM_LABEL})
        except Exception as exc:
            log.warning(
                "stale warm containers not swept: the engine does not answer", error=str(exc)
            )
            return 0
        stale = [c["Id"] for c in found if not owner_alive(c.get("Labels", {}).get(WARM_LABEL, ""))]
        for container_id in stale:
            with contextlib.suppress(Exception):
                self.client.api.remove_container(container_id, force=True)
        if stale:
            log.info("stale warm containers removed", count=len(stale))
        return len(stale)

    def idle_ids(self) -> set[str]:
        """The containers waiting in the pool."""
        with self._lock:
            return {warm.container_id for slot in self._slots.values() for warm in slot.idle}

    def close(self) -> None:
        """Stop filling and remove every idle container and every one handed back."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        filler, remover = self._threads
        filler.join(_REMOVE_TIMEOUT)
        with self._lock:
            for key, slot in self._slots.items():
                self._discard(key, slot, "the runner closes")
            self._draining = True
            self._lock.notify_all()
        remover.join(_REMOVE_TIMEOUT)


def _read_ready(stream: Any) -> None:
    """Wait for the waiter's line on stdout: the container is started and its shell runs."""
    sock: socket.socket = getattr(stream, "_sock", stream)
    sock.settimeout(_READY_TIMEOUT)
    try:
        kind, size = next_frame_header(stream)
        if size <= 0:
            raise RuntimeError("the container ended before it was ready")
        data = read_exactly(stream, size)
        if kind != 1 or data != b"\n":
            raise RuntimeError(f"unexpected output while warming: {data[:200]!r}")
    finally:
        sock.settimeout(None)
