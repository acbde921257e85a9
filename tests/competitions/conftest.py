"""The clock of competition tests."""

from __future__ import annotations

import pytest

from support.competing import Clock, install_clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return install_clock(monkeypatch)
