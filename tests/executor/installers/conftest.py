"""Fixtures for installer tests: the sandboxed installer, agent folders, running code with an
environment bound at ``/env`` as agents see it, and finding processes by a marker.

Tests that need bubblewrap skip where it is missing, and fail under ``CI=true``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from botarena.executor.installers import SandboxedInstaller
from botarena.executor.sandbox import (
    Limits,
    SandboxSpec,
    detect_cgroup_driver,
    python_runtime_binds,
    spawn,
)
from botarena.executor.sandbox.limits import GIB, MIB

from support import installs
from support.services import require_sandbox

IN_CI = os.environ.get("CI") == "true"
# Room for numpy and for pip's build environments; the tests make tighter ones themselves.
INSTALL_LIMITS = Limits(memory_bytes=GIB, pids=128, cpu_cores=2.0, file_size_bytes=256 * MIB)


def _require_bwrap() -> None:
    require_sandbox()


@pytest.fixture(scope="session")
def sandboxed_installer() -> SandboxedInstaller:
    _require_bwrap()
    return SandboxedInstaller(INSTALL_LIMITS)


MakeFolder = Callable[[str, dict[str, str]], Path]


@pytest.fixture
def make_folder(tmp_path: Path) -> MakeFolder:
    """``make_folder(name, {relative path: text})``: an agent folder holding those files."""

    def make(name: str, files: dict[str, str]) -> Path:
        folder = tmp_path / "agents" / name
        for relative, text in files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)
        return folder

    return make


RunAtEnv = Callable[[Path, str], str]


@pytest.fixture
def run_at_env() -> RunAtEnv:
    """``run_at_env(env_dir, code)``: the output of ``code`` run by ``env_dir``'s Python bound
    at ``/env``, as in an agent's sandbox."""
    _require_bwrap()
    return _run_at_env


def _run_at_env(env_dir: Path, code: str) -> str:
    spec = SandboxSpec(
        command=["/env/bin/python", "-c", code],
        ro_binds=[*python_runtime_binds(), (env_dir, "/env")],
        env={"PATH": "/env/bin:/usr/bin:/bin", "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    # In a cgroup, so that closing it waits until every process of the sandbox is gone.
    driver = detect_cgroup_driver()
    with spawn(spec, Limits(), name=f"env-check-{secrets.token_hex(4)}", driver=driver) as process:
        process.stdin.close()
        output = process.stdout.read().decode()
        errors = process.stderr.read().decode()
        assert process.wait(30) == 0, errors
    return output


@pytest.fixture
def processes_with() -> Callable[[bytes], set[int]]:
    """``processes_with(marker)``: pids of live processes whose command line holds it."""
    return installs.processes_with


@pytest.fixture
def no_install_left(tmp_path: Path) -> Iterator[None]:
    """After the test: no install sandbox of this test alive (other tests' may be)."""
    yield
    installs.assert_no_install_left(tmp_path)
