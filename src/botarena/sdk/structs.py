"""Attribute-style dictionaries: agents may write ``obs.board`` as well as ``obs["board"]``."""

from __future__ import annotations

from typing import Any


class Struct(dict[str, Any]):
    """A dict whose keys are also attributes; nested dicts (also inside lists) become Structs.

    At its first read through an attribute, a Struct becomes its own attribute namespace,
    so that later reads are plain attribute reads: each one through ``__getattr__`` costs
    the failed normal lookup first, about ten times as much, at every read of every turn.
    Dict methods keep winning over keys of the same name: a Struct holding such a key stays
    on ``__getattr__``.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        if _RESERVED.isdisjoint(self):
            object.__setattr__(self, "__dict__", self)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __reduce__(self) -> tuple[type[Struct], tuple[dict[str, Any]]]:
        # Copies and pickles are made from the items alone, never from the namespace.
        return (type(self), (dict(self),))


# The names a key must not shadow once the Struct is its own namespace.
_RESERVED = frozenset(dir(Struct))


def structify(value: Any) -> Any:
    """``value`` with every dict turned into a :class:`Struct`, at any depth."""
    if isinstance(value, dict):
        return Struct({key: structify(item) for key, item in value.items()})
    if isinstance(value, list):
        return [structify(item) for item in value]
    return value
