"""Game plug-ins for tests: entry points the registry sees without installing a package."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import pytest

from botarena.games import registry
from botarena.games.tictactoe import TicTacToe


class MiniGame(TicTacToe):
    """A plug-in game: tic-tac-toe under another id is enough to be loaded."""

    id: ClassVar[str] = "mini"
    title: ClassVar[str] = "Mini"


@dataclass
class FakeEntryPoint:
    """Just what the registry reads from an installed entry point."""

    name: str
    value: str
    loader: Callable[[], object]
    group: str = registry.ENTRY_POINT_GROUP

    def load(self) -> object:
        return self.loader()


def install(monkeypatch: pytest.MonkeyPatch, *entries: FakeEntryPoint) -> None:
    """Make the registry see exactly these entry points."""

    def fake_entry_points(*, group: str) -> list[FakeEntryPoint]:
        return [entry for entry in entries if entry.group == group]

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
