"""The ``?limit=&offset=`` parameters that every list endpoint takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Far beyond any list's length, and well inside every database's integer: an offset of 2**63
# overflowed SQLite's and answered 500.
MAX_OFFSET = 1_000_000_000


@dataclass(frozen=True)
class PageParams:
    """Which slice of a list is asked for."""

    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]
