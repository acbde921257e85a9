"""Small helpers for the hypothesis strategies that property tests share."""

from __future__ import annotations

from typing import TypeVar

from hypothesis import strategies as st

T = TypeVar("T")


def mostly(
    common: st.SearchStrategy[T], odd: st.SearchStrategy[T], one_in: int
) -> st.SearchStrategy[T]:
    """``odd`` once in ``one_in`` draws, else ``common``: hostile input that is often accepted.

    sampled_from draws evenly (integers() favours its bounds) and shrinks towards ``common``.
    """
    return st.sampled_from(range(one_in)).flatmap(lambda n: odd if n == one_in - 1 else common)
