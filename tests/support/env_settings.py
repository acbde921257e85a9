"""Settings read from the environment as a server reads them, for settings tests."""

from __future__ import annotations

import pytest

from botarena.settings import Settings

DIGEST = "sha256:" + "0123456789abcdef" * 4


def from_env(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Settings:
    """``Settings`` with ``BOTARENA_{NAME}`` set to each value given (no .env file)."""
    for name, value in variables.items():
        monkeypatch.setenv(f"BOTARENA_{name.upper()}", value)
    return Settings(_env_file=None)  # type: ignore[call-arg]
