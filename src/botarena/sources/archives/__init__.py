"""Checking, storing, extracting and packing the code archives that participants upload.

Archives (``.zip`` or ``.tar.gz``) come from untrusted users, so nothing here trusts them:

* :func:`store_archive` spools an upload to a temporary file (never reading more than one byte
  past the size limit), checks it with :func:`check_archive` and moves it to its content
  address ``<root>/<sha[:2]>/<sha>.<zip|tar.gz>``. A refused upload leaves nothing behind.
* :func:`check_archive` walks every member: names must be plain relative paths, links must stay
  inside, special files are refused, and every file is really decompressed (sizes declared in
  headers are never trusted) while counting bytes against the limits.
* :func:`extract_archive` re-checks everything, then writes the tree without ever following a
  link, with normalised permissions, dropping a single top-level folder if there is one.
* :func:`pack_folder` builds the ``.tar.gz`` that the command-line client uploads;
  :func:`pack_sent_folder` the one for a folder a browser sent file by file.

Every refusal is an :class:`ArchiveError` whose message is one sentence meant for the user.

The modules: ``types`` and ``errors`` (shared names and refusals), ``paths`` (member-name and
link rules), ``entries``, ``zipfiles`` and ``tarfiles`` (reading), ``check`` (the checking walk),
``store``, ``extract``, ``pack`` and ``folder``.
"""

from __future__ import annotations

from botarena.sources.archives.check import check_archive, detect_format
from botarena.sources.archives.errors import ArchiveError, ArchiveTooLargeError
from botarena.sources.archives.extract import extract_archive
from botarena.sources.archives.folder import PACKED_NAME, pack_sent_folder
from botarena.sources.archives.pack import pack_folder
from botarena.sources.archives.store import store_archive
from botarena.sources.archives.types import ArchiveFormat, ArchiveLimits, StoredArchive

__all__ = [
    "PACKED_NAME",
    "ArchiveError",
    "ArchiveFormat",
    "ArchiveLimits",
    "ArchiveTooLargeError",
    "StoredArchive",
    "check_archive",
    "detect_format",
    "extract_archive",
    "pack_folder",
    "pack_sent_folder",
    "store_archive",
]
