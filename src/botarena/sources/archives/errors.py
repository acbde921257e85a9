"""Archive refusals, and the wording of their sentences: member names, sizes, shared phrases.

Every refusal is an :class:`ArchiveError` whose message is one sentence meant for the user.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

NO_FILES = "The archive contains no files"


class ArchiveError(ValueError):
    """An archive was refused; the message is one sentence that can be shown to the user.

    For example ``Archive member ../evil escapes the archive``.
    """


class ArchiveTooLargeError(ArchiveError):
    """The compressed archive is larger than ``max_bytes`` (the API answers 413 for this one)."""


def show(name: str) -> str:
    """A member name fit for an error sentence: control characters escaped, long names cut."""
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)
    return text if len(text) <= 100 else text[:97] + "..."


def human(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return "1 byte" if size == 1 else f"{size} bytes"


@contextmanager
def guarded(message: str) -> Iterator[None]:
    """Turn whatever a parser raises on hostile input into an ArchiveError with ``message``."""
    try:
        yield
    except ArchiveError:
        raise
    except Exception as exc:
        raise ArchiveError(message) from exc


def larger_than(max_bytes: int) -> str:
    """The sentence refusing an archive that is bigger than ``max_bytes`` as uploaded."""
    return f"The archive is larger than the {human(max_bytes)} limit"


def unpacks_to_more_than(limit: int) -> str:
    """The sentence refusing an archive whose contents add up to more than ``limit`` bytes."""
    return f"The archive unpacks to more than {human(limit)}"


def inside_non_folder(parts: tuple[str, ...], folder: tuple[str, ...]) -> str:
    """The sentence refusing the member at ``parts`` because ``folder`` above it is no folder."""
    return (
        f"Archive member {show('/'.join(parts))} is inside "
        f"{show('/'.join(folder))}, which is not a folder"
    )
