"""The host installer (a participant's laptop): its environments work where agents see them,
at ``/env``, although they were built at a host path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from botarena.executor.installers import HostInstaller, SandboxedInstaller
from botarena.executor.prepare import build_environment

RunAtEnv = Callable[[Path, str], str]


def test_a_host_built_environment_works_bound_at_env(run_at_env: RunAtEnv, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "requirements.txt").write_text("six\n")
    env = build_environment(
        tmp_path / "a" / "requirements.txt", tmp_path / "envs", installer=HostInstaller()
    )
    assert str(env.parent) in (env / "bin" / "activate").read_text()  # built at a host path
    output = run_at_env(env, "import six, sys; print(sys.prefix, six.__file__)").split()
    assert output[0] == "/env"
    assert output[1].startswith("/env/lib/python3")


def test_host_and_sandboxed_builds_do_not_share_a_cache_entry(tmp_path: Path) -> None:
    assert HostInstaller.layout != SandboxedInstaller.layout
