"""Attribute-style dictionaries: agents may write ``obs.board`` as well as ``obs["board"]``."""

from __future__ import annotations

from typing import Any


class Struct(dict[str, Any]):
    """A dict whose keys are also attributes; nested dicts (also inside lists) become Structs."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None


def structify(value: Any) -> Any:
    """``value`` with every dict turned into a :class:`Struct`, at any depth."""
    if isinstance(value, dict):
        return Struct({key: structify(item) for key, item in value.items()})
    if isinstance(value, list):
        return [structify(item) for item in value]
    return value
