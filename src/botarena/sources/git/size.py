"""How much room a folder takes, counted cheaply enough to be checked several times a second."""

from __future__ import annotations

import os
import stat

MIN_ENTRY_BYTES = 4096
"""Every file, folder and link counts as at least one 4 KiB block, as it does on disk.

This also bounds the work of one count: it stops after ``limit / 4 KiB`` entries, so a
repository of a million empty files is refused rather than counted slowly."""


def folder_size(root: str, limit: int) -> int:
    """Bytes taken under ``root`` (``root`` itself not counted), stopping once past ``limit``.

    Links are not followed. Files may come and go while git writes; those that vanish
    between listing and counting are skipped.
    """
    total = 0
    folders = [root]
    while folders:
        try:
            listing = os.scandir(folders.pop())
        except OSError:
            continue
        with listing:
            for entry in listing:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += max(info.st_size, MIN_ENTRY_BYTES)
                if total > limit:
                    return total
                if stat.S_ISDIR(info.st_mode):
                    folders.append(entry.path)
    return total
