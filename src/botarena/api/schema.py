"""The base of every API body: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Fields are written ``created_at`` in Python and ``createdAt`` in JSON."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        extra="forbid",
    )


def _a_json_number(value: object) -> object:
    """JSON's numbers only: ``true`` is not 1 and ``"3"`` is not 3 (``3.0`` is 3)."""
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be a whole number")
    return value


# Last in an integer field's ``Annotated[int, Ge(…), Le(…), JSON_NUMBER]``: the field takes
# what JSON Schema's "integer" means. (Before the bounds, it would hide them from the schema.)
JSON_NUMBER = BeforeValidator(_a_json_number)


def _a_calendar_time(value: object) -> object:
    """ISO 8601 only: a bare number is not a time (the framework would read it as seconds
    since 1970, where the description promises a date-time)."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z")
    return value


# Last in ``Annotated[datetime, ISO_TIME]``: what JSON Schema's "date-time" format means.
ISO_TIME = BeforeValidator(_a_calendar_time)

ItemT = TypeVar("ItemT")


class Page(ApiModel, Generic[ItemT]):
    """One page of a list: every list endpoint answers this shape."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int
