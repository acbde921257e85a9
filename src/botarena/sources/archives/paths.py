"""Member names and link targets: plain relative paths that stay inside the archive."""

from __future__ import annotations

import re
import unicodedata

from botarena.sources.archives.errors import ArchiveError, show

_MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 4096
# The kernel refuses to create a symlink whose target does not fit in PATH_MAX with its NUL.
MAX_LINK_TARGET_BYTES = MAX_PATH_BYTES - 1
_MAX_LINK_HOPS = 40
# Deeper trees break tools that walk folders recursively (shutil.rmtree, os.walk, copytree):
# Python's recursion limit is about 1000 frames.
_MAX_DEPTH = 256
_DRIVE = re.compile(r"[A-Za-z]:")


def has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def has_bad_encoding(text: str) -> bool:
    # Undecodable bytes in tar names come back as lone surrogates.
    return any(unicodedata.category(ch) == "Cs" for ch in text)


def is_absolute(text: str) -> bool:
    return text.startswith(("/", "\\")) or _DRIVE.match(text) is not None


def components(text: str) -> list[str]:
    """Split a path on forward and back slashes, dropping empty and ``.`` components."""
    return [part for part in text.replace("\\", "/").split("/") if part not in ("", ".")]


def name_parts(raw: str) -> tuple[str, ...]:
    """Check a member name and return its path components (empty for the archive root)."""
    shown = show(raw)
    if has_control(raw):
        raise ArchiveError(f"Archive member {shown} has a control character in its name")
    if has_bad_encoding(raw):
        raise ArchiveError(f"Archive member {shown} has a name that is not valid UTF-8")
    if is_absolute(raw):
        raise ArchiveError(f"Archive member {shown} has an absolute path")
    parts = components(raw)
    if ".." in parts:
        raise ArchiveError(f"Archive member {shown} escapes the archive")
    if len(parts) > _MAX_DEPTH:
        raise ArchiveError(f"Archive member {shown} is more than {_MAX_DEPTH} levels deep")
    if any(len(part.encode()) > _MAX_COMPONENT_BYTES for part in parts):
        raise ArchiveError(
            f"Archive member {shown} has a path component longer than {_MAX_COMPONENT_BYTES} bytes"
        )
    if len("/".join(parts).encode()) > MAX_PATH_BYTES:
        raise ArchiveError(f"Archive member {shown} has a path longer than {MAX_PATH_BYTES} bytes")
    return tuple(parts)


def check_symlink(parts: tuple[str, ...], target: str, links: dict[tuple[str, ...], str]) -> None:
    """Refuse a symlink whose target is unsafe or resolves outside the extraction root.

    The target is resolved the way the kernel would once the tree is on disk: relative to the
    link's folder, following the archive's other symlinks on the way, so that tricks such as
    ``self -> .`` followed by ``self/../..`` are caught.
    """
    shown = show("/".join(parts))
    if not target:
        raise ArchiveError(f"Archive symlink {shown} has an empty target")
    if has_control(target) or has_bad_encoding(target):
        raise ArchiveError(f"Archive symlink {shown} has a target with invalid characters")
    if len(target.encode()) > MAX_LINK_TARGET_BYTES:
        raise ArchiveError(
            f"Archive symlink {shown} has a target longer than {MAX_LINK_TARGET_BYTES} bytes"
        )
    if is_absolute(target):
        raise ArchiveError(f"Archive symlink {shown} points to an absolute path")
    hops = 0

    def resolve(base: tuple[str, ...], text: str) -> tuple[str, ...] | None:
        nonlocal hops
        current = list(base)
        for part in text.replace("\\", "/").split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not current:
                    return None
                current.pop()
                continue
            current.append(part)
            followed = links.get(tuple(current))
            if followed is not None:
                hops += 1
                if hops > _MAX_LINK_HOPS:
                    raise ArchiveError(f"Archive symlink {shown} goes through too many links")
                if is_absolute(followed):
                    return None
                found = resolve(tuple(current[:-1]), followed)
                if found is None:
                    return None
                current = list(found)
        return tuple(current)

    if resolve(parts[:-1], target) is None:
        raise ArchiveError(f"Archive symlink {shown} points outside the archive")
