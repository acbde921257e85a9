"""Checks a Git ref (branch, tag or commit) named in a submission before anything fetches it."""

from __future__ import annotations

import re

MAX_REF_LENGTH = 255
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def ref_problem(ref: str) -> str | None:
    """Why ``ref`` is refused, or None when it is a usable ref.

    Follows git's own rules for ref names, and refuses a leading '-' so that a ref can never be
    read as an option of a git command.
    """
    if not ref:
        return "ref must not be empty"
    if len(ref) > MAX_REF_LENGTH:
        return f"ref must be at most {MAX_REF_LENGTH} characters"
    if ref.startswith("-"):
        return "ref must not start with '-'"
    if _FORBIDDEN.search(ref):
        return "ref must not contain spaces, control characters or any of ~ ^ : ? * [ \\"
    if ".." in ref or "@{" in ref or "//" in ref or ref == "@":
        return "ref must not contain '..', '@{' or '//'"
    if ref.startswith("/") or ref.endswith(("/", ".", ".lock")):
        return "ref must not start with '/' or end with '/', '.' or '.lock'"
    if any(part.startswith(".") for part in ref.split("/")):
        return "ref components must not start with '.'"
    return None
