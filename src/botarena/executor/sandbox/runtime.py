"""What of the host a sandbox sees: the system's runtime folders and the real Python.

Everything here is bound read-only. ``/etc`` is not bound as a whole (it holds the host's
accounts, keys and configuration); only the few files a dynamically linked program needs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Where programs and their libraries live. Merged-/usr systems make the others symlinks.
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The loader's cache (without it libraries are found, only slowly), the time zone, and the
# Debian alternatives that some /usr/bin names point through.
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives")


def system_mounts() -> list[tuple[str, str, str]]:
    """``(kind, source, sandbox path)``: kind ``"bind"`` for a read-only bind of a folder or
    file that exists here, ``"symlink"`` to copy a symlink (its target is the source)."""
    mounts: list[tuple[str, str, str]] = []
    for name in SYSTEM_FOLDERS + SYSTEM_FILES:
        path = Path(name)
        if path.is_symlink():
            mounts.append(("symlink", os.readlink(path), name))
        elif path.exists():
            mounts.append(("bind", name, name))
    return mounts


def real_python() -> Path:
    """The interpreter binary itself: ``python3`` on PATH may be a shell-script shim that
    would need a whole tool installation inside the sandbox."""
    return Path(os.path.realpath(sys.executable))


def python_runtime_binds() -> list[tuple[Path, str]]:
    """Read-only binds that make :func:`real_python` run inside a sandbox, at the same paths.

    That is the interpreter's installation prefix (its standard library and shared
    library), unless it lives under a system folder that every sandbox sees anyway. A
    virtual environment is not bound: agents get the bare standard library.
    """
    prefix = Path(os.path.realpath(sys.base_prefix))
    binds: list[tuple[Path, str]] = []
    if not _under_system_folder(prefix):
        binds.append((prefix, str(prefix)))
    binary = real_python()
    if not _under_system_folder(binary) and not binary.is_relative_to(prefix):
        binds.append((binary.parent, str(binary.parent)))
    return binds


def _under_system_folder(path: Path) -> bool:
    return any(
        path.is_relative_to(folder) and not Path(folder).is_symlink() for folder in SYSTEM_FOLDERS
    )
