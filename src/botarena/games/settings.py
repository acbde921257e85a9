"""Configuration keys of a game: their defaults, types and ranges, and the check of overrides.

Every game shares the timing keys (``actTimeout``, ``overageTime``, ``agentTimeout``) and
``episodeSteps``; Kaggle's names are kept so that Kaggle agents read them unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class GameConfigError(ValueError):
    """A configuration override is unknown, of the wrong type or out of range (one sentence)."""


@dataclass(frozen=True)
class Setting:
    """One configuration key: integers stay ``int``; numbers are stored as ``float``."""

    name: str
    default: int | float
    integer: bool
    low: int | float
    high: int | float
    # Timeouts must be positive, yet any small positive value is fine, so the bound is open.
    low_open: bool = False

    def describe(self) -> str:
        """The rule as a sentence ending, e.g. 'an integer from 3 to 20'."""
        if self.integer:
            return f"an integer from {self.low} to {self.high}"
        if self.low_open:
            return f"a number greater than {self.low} and at most {self.high}"
        return f"a number from {self.low} to {self.high}"

    def check(self, value: Any) -> int | float:
        """The value as stored, or :class:`GameConfigError`."""
        # bool is a subclass of int, but ``true`` is never a meaningful count or duration.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._error()
        if self.integer and not isinstance(value, int):
            raise self._error()
        too_low = value <= self.low if self.low_open else value < self.low
        # NaN compares false with everything, so it is refused explicitly.
        if value != value or too_low or value > self.high:
            raise self._error()
        return value if self.integer else float(value)

    def _error(self) -> GameConfigError:
        return GameConfigError(f"configuration {self.name} must be {self.describe()}")


def integer(name: str, default: int, low: int, high: int) -> Setting:
    """An integer key."""
    return Setting(name, default, integer=True, low=low, high=high)


def timing_settings(
    *, act_timeout: float, episode_steps: int, overage_time: float = 60, agent_timeout: float = 60
) -> tuple[Setting, ...]:
    """The keys every game has, with that game's defaults."""
    return (
        Setting("actTimeout", float(act_timeout), False, 0, 3600, low_open=True),
        Setting("overageTime", float(overage_time), False, 0, 86400),
        Setting("agentTimeout", float(agent_timeout), False, 0, 3600, low_open=True),
        integer("episodeSteps", episode_steps, 1, 100_000),
    )


def defaults(settings: Iterable[Setting]) -> dict[str, Any]:
    """Every key at its default value."""
    return {setting.name: setting.default for setting in settings}


def merge(settings: Iterable[Setting], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults merged with checked overrides; an unknown key is refused."""
    by_name = {setting.name: setting for setting in settings}
    config = defaults(by_name.values())
    for key in sorted(overrides, key=str):
        setting = by_name.get(key)
        if setting is None:
            known = ", ".join(sorted(by_name))
            raise GameConfigError(f"configuration has no key {key!r}; known keys: {known}")
        config[key] = setting.check(overrides[key])
    return config
