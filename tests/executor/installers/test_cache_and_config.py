"""Without a sandbox: the cache key (installer layout, local files), which requirements name
local files, what of the host's pip configuration a sandboxed install gets, and the marker
that completes an environment."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from botarena.executor.installers import sandboxed
from botarena.executor.installers.base import OutputSink
from botarena.executor.installers.host_config import host_binds, pip_variables
from botarena.executor.installers.requirements import refers_to_local_files
from botarena.executor.prepare import build_environment, environment_key
from botarena.executor.runners import local


def _requirements(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requirements.txt").write_text(text)
    return folder / "requirements.txt"


def test_the_key_depends_on_the_layout(tmp_path: Path) -> None:
    requirements = _requirements(tmp_path, "six\n")
    assert environment_key(requirements, "host") != environment_key(requirements, "sandboxed:/env")
    assert environment_key(requirements) == environment_key(requirements, "host")


def test_local_files_are_part_of_the_key(tmp_path: Path) -> None:
    one = _requirements(tmp_path / "one", "./pkg\n")
    two = _requirements(tmp_path / "two", "./pkg\n")
    for folder, text in ((one.parent, "A = 1\n"), (two.parent, "A = 2\n")):
        (folder / "pkg").mkdir()
        (folder / "pkg" / "mod.py").write_text(text)
    assert environment_key(one) != environment_key(two)
    (two.parent / "pkg" / "mod.py").write_text("A = 1\n")
    assert environment_key(one) == environment_key(two)
    # What a build leaves beside the sources does not count.
    (one.parent / "pkg" / "build").mkdir()
    (one.parent / "pkg" / "build" / "x").write_text("x")
    (one.parent / "pkg" / "mod.egg-info").mkdir()
    assert environment_key(one) == environment_key(two)


def test_remote_requirements_ignore_the_folder(tmp_path: Path) -> None:
    one = _requirements(tmp_path / "one", "six==1.16.0\n")
    two = _requirements(tmp_path / "two", "six==1.16.0\n")
    (two.parent / "main.py").write_text("anything\n")
    assert environment_key(one) == environment_key(two)


@pytest.mark.parametrize(
    ("lines", "local"),
    [
        (["six", "numpy>=1.26; python_version >= '3.10'", "requests[socks]"], False),
        (["--index-url https://example.org/simple", "pkg @ https://example.org/p.whl"], False),
        (["./pkg"], True),
        (["pkg/"], True),
        (["-e ./pkg"], True),
        (["-r other.txt"], True),
        (["--find-links wheels", "six"], True),
        (["pkg @ file:///somewhere/pkg"], True),
        (["/abs/pkg.whl"], True),
    ],
)
def test_which_requirements_name_local_files(lines: list[str], local: bool) -> None:
    assert refers_to_local_files(lines) is local


def test_only_pip_proxy_and_certificate_variables_go_in() -> None:
    environ = {
        "PIP_INDEX_URL": "https://index.example/simple",
        "https_proxy": "http://proxy:3128",
        "NO_PROXY": "localhost",
        "SSL_CERT_FILE": "/certs/ca.pem",
        "REQUESTS_CA_BUNDLE": "/certs/ca.pem",
        "HOME": "/root",
        "AWS_SECRET_ACCESS_KEY": "no",
        "PYTHONPATH": "/somewhere",
    }
    assert pip_variables(environ) == {
        "PIP_INDEX_URL": "https://index.example/simple",
        "https_proxy": "http://proxy:3128",
        "NO_PROXY": "localhost",
        "SSL_CERT_FILE": "/certs/ca.pem",
        "REQUESTS_CA_BUNDLE": "/certs/ca.pem",
    }


def test_folders_named_by_pip_variables_are_bound_when_public(tmp_path: Path) -> None:
    # Outside pytest's own temporary folders, which only root may enter.
    with tempfile.TemporaryDirectory(dir="/var/tmp") as shared:
        wheels = Path(shared) / "wheels"
        wheels.mkdir(mode=0o755)
        Path(shared).chmod(0o755)
        hidden = tmp_path / "wheels"
        hidden.mkdir(mode=0o755)
        environ = {"PIP_FIND_LINKS": f"{wheels} https://example.org/links file://{hidden}"}
        binds = dict(host_binds(environ))
    assert binds[wheels] == str(wheels)
    assert hidden not in binds  # behind a folder only root may enter
    assert not any(path.is_relative_to("/etc/ssl/private") for path in binds)
    assert Path("/") not in dict(host_binds({"PIP_FIND_LINKS": "/"}))


class _Planting:
    """An installer whose "environment" holds a symlink where the completion marker goes."""

    layout = "test"

    def __init__(self, victim: Path) -> None:
        self.victim = victim

    def install(
        self, requirements: Path, target: Path, *, on_output: OutputSink | None, timeout: float
    ) -> None:
        (target / "bin").mkdir()
        os.symlink(self.victim, target / ".botarena-complete")


def test_the_completion_marker_does_not_follow_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched\n")
    requirements = _requirements(tmp_path / "a", "six\n")
    env = build_environment(requirements, tmp_path / "envs", installer=_Planting(victim))
    assert victim.read_text() == "untouched\n"
    marker = env / ".botarena-complete"
    assert not marker.is_symlink() and marker.read_text().strip() == env.name


def test_sandboxed_builds_use_the_run_time_paths() -> None:
    assert (sandboxed.ENV_DIR, sandboxed.AGENT_DIR) == (local.ENV_DIR, local.AGENT_DIR)
