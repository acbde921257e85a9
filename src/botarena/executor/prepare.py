"""Prepares an agent's folder to run: reads what to start, and builds its Python environment.

An agent is a folder holding either ``main.py`` with a Kaggle-style ``agent`` function (and an
optional ``requirements.txt``), or a ``botarena.toml`` whose ``[agent] command`` names a program
in any language that speaks the protocol. Environments are built by an installer (see
:mod:`botarena.executor.installers`) and cached by the hash of the requirements, the
interpreter and the installer's layout, so an unchanged set is built once and then reused.
When the requirements name local files (``./pkg``, ``-r other.txt``), the contents of the
agent's folder are part of the key as well: two folders with the same lines but different
packages must not share an environment.

A host-built environment also works where agents see it, at ``/env``: a virtual environment
finds its prefix from where its ``bin/python`` is and the ``pyvenv.cfg`` beside it, not from
the path it was built at. Only what records that path breaks: scripts' ``#!`` lines and
editable installs. A sandboxed build is made at ``/env`` itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from botarena.executor.installers import HostInstaller, Installer
from botarena.executor.installers.base import OutputSink, PrepareError, say
from botarena.executor.installers.requirements import refers_to_local_files, requirement_lines
from botarena.executor.sandbox.runtime import real_python

__all__ = [
    "COMPLETE_MARKER",
    "DEFAULT_INSTALL_TIMEOUT",
    "ENTRY_FILE",
    "ENVS",
    "MANIFEST",
    "REQUIREMENTS",
    "OutputSink",
    "PrepareError",
    "PreparedAgent",
    "build_environment",
    "environment_key",
    "prepare_agent",
    "read_command",
    "real_python",
]

MANIFEST = "botarena.toml"
ENTRY_FILE = "main.py"
REQUIREMENTS = "requirements.txt"
# An environment is usable once this file is in it (a failed or half-made one has none).
COMPLETE_MARKER = ".botarena-complete"
# The folder of a cache where environments are kept.
ENVS = "envs"
DEFAULT_INSTALL_TIMEOUT = 600.0
# Folders that package builds leave beside their sources: left out of the key, so that a host
# build of ./pkg does not change the key it was made under.
_BUILD_LEFTOVERS = frozenset({"__pycache__", ".git", "build", "dist", ".eggs"})


@dataclass(frozen=True)
class PreparedAgent:
    """An agent ready to start: its files, its environment, and what to run."""

    name: str
    code_dir: Path
    env_dir: Path | None  # a virtual environment with the requirements; None: the base Python
    command: tuple[str, ...] | None  # from botarena.toml; None: the SDK runs main.py
    image: str | None = None  # a container image holding the agent (the docker runner's)

    @classmethod
    def from_image(cls, name: str, image: str) -> PreparedAgent:
        """An agent built into a container image, its code at ``/agent`` inside."""
        return cls(name, Path("/agent"), None, None, image=image)

    @property
    def is_python(self) -> bool:
        return self.command is None


def read_command(folder: Path) -> tuple[str, ...] | None:
    """The command declared in ``botarena.toml``, or None for a plain ``main.py`` agent."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return None
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PrepareError("invalid_manifest", f"{MANIFEST} cannot be read: {exc}") from exc
    agent = data.get("agent")
    command = agent.get("command") if isinstance(agent, dict) else None
    if command is None:
        return None
    if (
        not isinstance(command, list)
        or not command
        or not all(isinstance(part, str) and part for part in command)
    ):
        raise PrepareError(
            "invalid_manifest",
            f'{MANIFEST}: [agent] command must be a list of strings, e.g. command = ["./run"]',
        )
    return tuple(command)


def prepare_agent(
    folder: Path,
    cache_dir: Path,
    *,
    name: str | None = None,
    on_output: OutputSink | None = None,
    install_timeout: float = DEFAULT_INSTALL_TIMEOUT,
    installer: Installer | None = None,
) -> PreparedAgent:
    """Check ``folder`` and build (or reuse) its environment under ``cache_dir``.

    The default installer runs pip directly, which suits one's own code on one's own machine;
    a server passes a :class:`~botarena.executor.installers.SandboxedInstaller`.
    """
    folder = folder.resolve()
    if not folder.is_dir():
        raise PrepareError("not_found", f"{folder} is not a folder")
    command = read_command(folder)
    if command is None and not (folder / ENTRY_FILE).is_file():
        raise PrepareError(
            "no_entry_point",
            f"{folder.name} has neither {ENTRY_FILE} nor a command in {MANIFEST}",
        )
    requirements = folder / REQUIREMENTS
    env_dir = None
    if requirements.is_file() and requirement_lines(requirements):
        env_dir = build_environment(
            requirements,
            cache_dir / ENVS,
            installer=installer,
            on_output=on_output,
            timeout=install_timeout,
        )
    return PreparedAgent(name or folder.name, folder, env_dir, command)


def environment_key(requirements: Path, layout: str = HostInstaller.layout) -> str:
    """The cache key: the requirements (as written, minus comments and blanks), the Python,
    the installer's layout and, when the requirements name local files, the folder's files."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version_info[:3]}|{real_python()}|{layout}\n".encode())
    lines = requirement_lines(requirements)
    for line in lines:
        digest.update(line.encode() + b"\n")
    if refers_to_local_files(lines):
        _digest_folder(digest, requirements.parent)
    return digest.hexdigest()[:32]


def build_environment(
    requirements: Path,
    envs_dir: Path,
    *,
    installer: Installer | None = None,
    on_output: OutputSink | None = None,
    timeout: float = DEFAULT_INSTALL_TIMEOUT,
) -> Path:
    """A virtual environment with ``requirements`` installed, reused when it already exists.

    A failed build leaves nothing behind; two builds of the same key at once both succeed.
    """
    installer = installer or HostInstaller()
    key = environment_key(requirements, installer.layout)
    target = envs_dir / key
    if (target / COMPLETE_MARKER).is_file():
        say(on_output, f"reusing the environment {key[:12]} for {requirements.name}")
        return target
    envs_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=envs_dir))
    try:
        installer.install(requirements, building, on_output=on_output, timeout=timeout)
        _write_marker(building / COMPLETE_MARKER, key)
        try:
            building.rename(target)
        except OSError:
            # Another preparation finished the same environment first: use theirs.
            if not (target / COMPLETE_MARKER).is_file():
                raise
            shutil.rmtree(building, ignore_errors=True)
        return target
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _write_marker(path: Path, key: str) -> None:
    """Mark an environment complete. The installed packages could have put a symlink here,
    which an ordinary write would follow to wherever it points on the host."""
    if path.is_symlink() or path.exists():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")


def _digest_folder(digest: hashlib._Hash, folder: Path) -> None:
    """Add every file under ``folder`` (names and contents; symlinks as their targets)."""
    for root, dirs, files in os.walk(folder):
        linked = [name for name in dirs if Path(root, name).is_symlink()]
        dirs[:] = sorted(d for d in dirs if d not in linked and not _is_build_leftover(d))
        for name in sorted([*files, *linked]):
            path = Path(root, name)
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            try:
                if path.is_symlink():
                    digest.update(b"-> " + os.readlink(path).encode())
                elif stat.S_ISREG(path.lstat().st_mode):
                    # Not through a symlink swapped in since: this runs as root on a server.
                    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                    with os.fdopen(fd, "rb") as file:
                        digest.update(hashlib.file_digest(file, "sha256").digest())
            except OSError as exc:
                digest.update(f"unreadable: {exc.errno}".encode())
            digest.update(b"\0")


def _is_build_leftover(name: str) -> bool:
    return name in _BUILD_LEFTOVERS or name.endswith(".egg-info")
