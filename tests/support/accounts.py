"""Users made for tests, and the headers that act as them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Account:
    """A user made for a test."""

    id: str
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class MakeUser(Protocol):
    """The ``make_user`` fixture's call."""

    def __call__(
        self, name: str, *, admin: bool = False, password: str | None = None
    ) -> Account: ...
