"""Objects that hold something until ``close()``, and so can be used in a ``with`` block."""

from __future__ import annotations

from typing import Self


class Closing:
    """``with thing:`` closes ``thing`` at the end of the block, whatever happened in it."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
