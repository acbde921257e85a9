"""Watch streams: from a resourceVersion only the later events; without one the current
objects as ADDED first; 410 Gone for a compacted version (as an HTTP status or an ERROR event);
BOOKMARK events with ``allowWatchBookmarks``; ``timeoutSeconds``; selectors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .errors import gone
from .http import StreamCutError
from .resources import Resource
from .store import Event

if TYPE_CHECKING:
    from .cluster import Cluster

_LONGEST_WATCH = 1800.0


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


def _expired(version: int | str, oldest: int) -> bytes:
    return _line("ERROR", gone(f"{version} ({oldest})").status())


def open_watch(
    cluster: Cluster,
    resource: Resource,
    namespace: str | None,
    matches: Callable[[dict[str, Any]], bool],
    resource_version: str | None,
    *,
    bookmarks: bool,
    timeout: int | None,
) -> Iterator[bytes]:
    """Check what must be refused before the answer starts (410 as HTTP), then return the
    stream's lines."""
    from .cluster import WatchSession

    store = cluster.store
    with store.lock:
        initial: list[dict[str, Any]] = []
        if resource_version in (None, "", "0"):
            initial, cursor = store.list(resource, namespace, matches)
        else:
            try:
                cursor = int(resource_version)
            except ValueError:
                raise gone(str(resource_version)) from None
            if cursor < store.compacted and cluster.settings.gone_as == "http":
                raise gone(str(resource_version))
        session = WatchSession()
        cluster.watches.add(session)

    def lines() -> Iterator[bytes]:
        nonlocal cursor
        ends = time.monotonic() + (timeout if timeout is not None else _LONGEST_WATCH)
        interval = cluster.settings.bookmark_interval
        next_bookmark = time.monotonic() + interval
        try:
            for obj in initial:
                yield _line("ADDED", obj)
            while True:
                events: list[Any] = []
                with store.changed:
                    if session.drop.is_set():
                        raise StreamCutError
                    expired = session.expire.is_set() or cursor < store.compacted
                    if not expired:
                        events = store.events_after(cursor)
                    if not expired and not events:
                        cursor = store.resource_version
                        now = time.monotonic()
                        if now >= ends:
                            return
                        if not (bookmarks and now >= next_bookmark):
                            wake = min(ends, next_bookmark if bookmarks else ends, now + 0.5)
                            store.changed.wait(max(0.0, wake - now))
                            continue
                        next_bookmark = now + interval
                if expired:
                    yield _expired(cursor, store.compacted + 1)
                    return
                if not events:
                    bookmark = {
                        "kind": resource.kind,
                        "apiVersion": resource.api_version,
                        "metadata": {"resourceVersion": str(cursor)},
                    }
                    yield _line("BOOKMARK", bookmark)
                    continue
                for event in events:
                    cursor = event.resource_version
                    obj = event.object
                    if event.resource is not resource:
                        continue
                    if namespace is not None and obj["metadata"].get("namespace") != namespace:
                        continue
                    kind = _seen_as(event, matches)
                    if kind is not None:
                        yield _line(kind, obj)
        finally:
            with store.lock:
                cluster.watches.discard(session)

    return lines()


def _seen_as(event: Event, matches: Callable[[dict[str, Any]], bool]) -> str | None:
    """How a watch with a selector sees the event: an object modified into the selection is
    ADDED, one modified out of it is DELETED (as the API server's watch cache reports)."""
    now_matches = matches(event.object)
    if event.type != "MODIFIED" or event.previous is None:
        return event.type if now_matches else None
    before = matches(event.previous)
    if before and now_matches:
        return "MODIFIED"
    if now_matches:
        return "ADDED"
    return "DELETED" if before else None
