"""The errors of the sandbox layer, each carrying one sentence a person can act on."""

from __future__ import annotations


class SandboxError(Exception):
    """Starting, limiting or ending a sandboxed process failed."""


class SandboxUnavailable(SandboxError):  # noqa: N818 - the name is the agreed API
    """This machine cannot sandbox agents (no usable bubblewrap); the caller decides what next."""


class CgroupError(SandboxError):
    """A control group could not be created, limited or removed."""
