"""Fetching participants' code from a Git URL, without letting the URL reach internal hosts.

:func:`fetch_git` checks the ``codeUrl`` again, resolves its host once, pins git's connection
to the checked addresses, and runs a shallow clone under a time limit and a size limit. The
result is the checked-out code without its ``.git`` folder, and the sha of the commit.
"""

from __future__ import annotations

from botarena.sources.git.fetch import fetch_git
from botarena.sources.git.types import FetchedSource, FetchError, FetchLimits, FetchReason

__all__ = ["FetchError", "FetchLimits", "FetchReason", "FetchedSource", "fetch_git"]
