"""Fixtures of the example-agent tests: loading an agent cleanly."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from botarena.sdk.loader import AgentFunction, load_agent


@pytest.fixture
def load_main() -> Iterator[Callable[[Path], AgentFunction]]:
    """``load_agent`` for an agent folder, undoing its changes to sys.path and sys.modules."""
    saved_path = list(sys.path)
    saved_main = sys.modules.get("main")

    def load(folder: Path) -> AgentFunction:
        return load_agent(folder / "main.py")

    yield load
    sys.path[:] = saved_path
    if saved_main is None:
        sys.modules.pop("main", None)
    else:
        sys.modules["main"] = saved_main
