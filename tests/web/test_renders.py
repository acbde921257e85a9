"""Shared renders of live blocks: reused only when made after the notice that asks."""

from __future__ import annotations

import time

from botarena.web import renders as module
from botarena.web.renders import SharedRenders


def test_a_render_is_shared_only_when_it_began_after_the_notice() -> None:
    shared = SharedRenders()
    made: list[int] = []

    def make() -> str:
        made.append(1)
        return f"render {len(made)}"

    noticed = time.monotonic()
    assert shared.get("board", noticed, make) == "render 1"
    assert shared.get("board", noticed, make) == "render 1"  # the same change: shared
    assert shared.get("other", noticed, make) == "render 2"  # another block: its own
    later = time.monotonic() + 1  # a change after that render began
    assert shared.get("board", later, make) == "render 3"
    assert shared.renders == 3


def test_the_cache_keeps_a_bounded_number_of_blocks() -> None:
    shared = SharedRenders()
    for index in range(module.MAX_ENTRIES + 10):
        shared.get(("board", index), 0.0, lambda: "x")
    assert len(shared._entries) == module.MAX_ENTRIES
    assert ("board", 0) not in shared._entries
