"""Prepares an agent's folder to run: reads what to start, and builds its Python environment.

An agent is a folder holding either ``main.py`` with a Kaggle-style ``agent`` function (and an
optional ``requirements.txt``), or a ``botarena.toml`` whose ``[agent] command`` names a program
in any language that speaks the protocol. Environments are cached by the hash of the
requirements and the interpreter, so an unchanged set is built once and then reused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "botarena.toml"
ENTRY_FILE = "main.py"
REQUIREMENTS = "requirements.txt"
_COMPLETE_MARKER = ".botarena-complete"
DEFAULT_INSTALL_TIMEOUT = 600.0

OutputSink = Callable[[str], None]


class PrepareError(Exception):
    """The folder cannot be made runnable; ``reason`` is a short code, the text a sentence."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class PreparedAgent:
    """An agent ready to start: its files, its environment, and what to run."""

    name: str
    code_dir: Path
    env_dir: Path | None  # a virtual environment with the requirements; None: the base Python
    command: tuple[str, ...] | None  # from botarena.toml; None: the SDK runs main.py

    @property
    def is_python(self) -> bool:
        return self.command is None


def real_python() -> Path:
    """The interpreter itself, not a wrapper script or a virtual environment's link."""
    return Path(os.path.realpath(sys.executable))


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
) -> PreparedAgent:
    """Check ``folder`` and build (or reuse) its environment under ``cache_dir``."""
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
    if requirements.is_file() and _requirement_lines(requirements):
        env_dir = build_environment(
            requirements, cache_dir / "envs", on_output=on_output, timeout=install_timeout
        )
    return PreparedAgent(name or folder.name, folder, env_dir, command)


def environment_key(requirements: Path) -> str:
    """The cache key: the requirements (as written, minus comments and blanks) and the Python."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version_info[:3]}|{real_python()}\n".encode())
    for line in _requirement_lines(requirements):
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()[:32]


def build_environment(
    requirements: Path,
    envs_dir: Path,
    *,
    on_output: OutputSink | None = None,
    timeout: float = DEFAULT_INSTALL_TIMEOUT,
) -> Path:
    """A virtual environment with ``requirements`` installed, reused when it already exists."""
    key = environment_key(requirements)
    target = envs_dir / key
    if (target / _COMPLETE_MARKER).is_file():
        _say(on_output, f"reusing the environment {key[:12]} for {requirements.name}")
        return target
    envs_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=envs_dir))
    try:
        _say(on_output, f"creating an environment for {requirements.name}")
        _run([str(real_python()), "-m", "venv", "--without-pip", str(building)], on_output, 120)
        _run(
            [
                str(real_python()),
                "-m",
                "pip",
                "--python",
                str(building / "bin" / "python"),
                "install",
                "--no-input",
                "--disable-pip-version-check",
                "--no-warn-script-location",
                "-r",
                str(requirements),
            ],
            on_output,
            timeout,
        )
        (building / _COMPLETE_MARKER).write_text(key + "\n")
        try:
            building.rename(target)
        except OSError:
            # Another preparation finished the same environment first: use theirs.
            if not (target / _COMPLETE_MARKER).is_file():
                raise
            shutil.rmtree(building, ignore_errors=True)
        return target
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _run(argv: list[str], on_output: OutputSink | None, timeout: float) -> None:
    """Run a step of the preparation, streaming its output, killed past ``timeout``."""
    try:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        raise PrepareError("internal", f"cannot run {argv[0]}: {exc}") from exc
    tail: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            tail.append(line)
            del tail[:-20]
            _say(on_output, line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        process.kill()
        process.wait()
        raise PrepareError("timeout", f"installing requirements took over {timeout:g} s") from exc
    finally:
        reader.join(timeout=5)
    if code != 0:
        last = next((line for line in reversed(tail) if line.strip()), "")
        raise PrepareError(
            "dependencies_failed", f"installing requirements failed (exit {code}): {last}"
        )


def _requirement_lines(requirements: Path) -> list[str]:
    lines = []
    for raw in requirements.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("-") else raw.strip()
        if line:
            lines.append(line)
    return lines


def _say(on_output: OutputSink | None, line: str) -> None:
    if on_output is not None:
        on_output(line)
