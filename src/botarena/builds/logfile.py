"""Reading a build log file in whole lines from a byte offset, for the live streams."""

from __future__ import annotations

from pathlib import Path

_CHUNK = 1024 * 1024
# A line longer than this is handed out in pieces rather than held back forever.
_LONGEST_LINE = 1024 * 1024
_TAIL = 64 * 1024


def read_lines(path: Path, start: int, until: int | None) -> list[tuple[int, str]]:
    """The whole lines of ``path`` from byte ``start`` (a line boundary) to ``until`` (or the
    end), each with the offset just after it; a last line without its newline is left out."""
    found: list[tuple[int, str]] = []
    try:
        with path.open("rb") as handle:
            position = start
            handle.seek(position)
            partial = b""
            while until is None or position < until:
                size = _CHUNK if until is None else min(_CHUNK, until - position)
                data = handle.read(size)
                if not data:
                    break
                position += len(data)
                data = partial + data
                *complete, partial = data.split(b"\n")
                end = position - len(partial)
                offset = end - sum(len(line) + 1 for line in complete)
                for line in complete:
                    offset += len(line) + 1
                    found.append((offset, line.decode("utf-8", errors="replace")))
                if len(partial) >= _LONGEST_LINE:
                    found.append((position, partial.decode("utf-8", errors="replace")))
                    partial = b""
    except FileNotFoundError:
        return []
    return found


def last_line_end(path: Path) -> int:
    """The offset just after the last whole line of ``path`` (0 without a file)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            start = max(0, size - _TAIL)
            handle.seek(start)
            tail = handle.read()
    except FileNotFoundError:
        return 0
    newline = tail.rfind(b"\n")
    if newline < 0:
        return start if start == 0 else size
    return start + newline + 1


# Which file a path names (device, inode): a log replaced by another is a new file to read.
Identity = tuple[int, int]


def file_state(path: Path) -> tuple[Identity | None, int]:
    """The identity and size of the file at ``path`` (None and 0 without one)."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None, 0
    return (found.st_dev, found.st_ino), found.st_size
