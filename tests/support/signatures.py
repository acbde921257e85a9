"""Each endpoint's and dependency's typed signature read once per test process, not once per
app.

Every test builds the real app, and FastAPI reads, for every route it includes, the
signature of the endpoint and of each dependency, evaluating their string annotations anew:
most of the time of ``create_app``, which runs before nearly every test. The functions are
the same ones each time and so is what is read from them; the reading is kept per function
(weakly: a function made inside one app goes with it) and FastAPI builds the routes from it
as it did. Nothing in the platform depends on when a signature is read.
"""

from __future__ import annotations

import contextlib
import inspect
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.dependencies import utils

_Read = Callable[[Callable[..., Any]], inspect.Signature]


def remembering(read: _Read) -> _Read:
    """``read``, remembering its answer per function while the function lives."""
    known: weakref.WeakKeyDictionary[Callable[..., Any], inspect.Signature] = (
        weakref.WeakKeyDictionary()
    )

    def remembered(call: Callable[..., Any]) -> inspect.Signature:
        try:
            return known[call]
        except (KeyError, TypeError):  # TypeError: not hashable, or no weak reference to it
            pass
        signature = read(call)
        with contextlib.suppress(TypeError):
            known[call] = signature
        return signature

    return remembered


@pytest.fixture(autouse=True, scope="session")
def typed_signatures_read_once() -> Iterator[None]:
    original = utils.get_typed_signature
    utils.get_typed_signature = remembering(original)
    yield
    utils.get_typed_signature = original
