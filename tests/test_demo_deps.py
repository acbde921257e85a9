"""``make demo``'s system step (``scripts/demo-deps.sh``) on a PATH without bubblewrap: it names
the missing package and the exact command, and without root it stops at once, installing
nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "demo-deps.sh"
NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"


def _bin(folder: Path, *programs: str) -> Path:
    """A PATH folder holding only ``programs`` (links to this machine's), never bwrap."""
    folder.mkdir(parents=True, exist_ok=True)
    for program in programs:
        found = shutil.which(program)
        assert found is not None, program
        (folder / program).symlink_to(found)
    return folder


def _run(
    path: Path, *args: str, python: str = sys.executable, user: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(path), "PYTHON": python, "TOOLS": str(path / "no-tools")}
    return subprocess.run(
        ["/bin/bash", str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        user=user,
        group=user,
        extra_groups=[] if user is not None else None,
    )


def _sudo(packages: str) -> str:
    if os.geteuid() == 0:
        return f"apt-get update && apt-get install -y {packages}"
    return f"sudo apt-get update && sudo apt-get install -y {packages}"


def test_check_names_bubblewrap_and_the_command(tmp_path: Path) -> None:
    path = _bin(tmp_path / "bin", "id", "apt-get")
    done = _run(path, "--check")
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == ["missing: bubblewrap", f"command: {_sudo('bubblewrap')}"]


def test_with_bubblewrap_nothing_is_missing(tmp_path: Path) -> None:
    path = _bin(tmp_path / "bin", "id", "apt-get", "bwrap")
    done = _run(path, "--check")
    assert (done.returncode, done.stdout.strip()) == (0, "nothing missing"), done.stderr


def test_without_pip_or_ensurepip_python3_venv_is_needed(tmp_path: Path) -> None:
    # An interpreter as Debian ships it: no uv, and no ensurepip without python3-venv.
    debian_python = tmp_path / "python3"
    debian_python.write_text(
        "#!/bin/bash\n"
        'case "$*" in *ensurepip*|*"-m uv"*) exit 1 ;; esac\n'
        f'exec {sys.executable} "$@"\n'
    )
    debian_python.chmod(0o755)
    path = _bin(tmp_path / "bin", "id", "apt-get")
    done = _run(path, "--check", python=str(debian_python))
    assert done.stdout.splitlines()[0] == "missing: bubblewrap python3-venv"


def test_without_apt_the_packages_are_still_named(tmp_path: Path) -> None:
    done = _run(_bin(tmp_path / "bin", "id"), "--check")
    assert done.stdout.splitlines()[1] == (
        "command: install bubblewrap (or your system's packages of the same name)"
    )


def test_an_old_python_stops_with_what_to_do(tmp_path: Path) -> None:
    old = tmp_path / "python3"
    old.write_text("#!/bin/bash\nexit 1\n")
    old.chmod(0o755)
    done = _run(_bin(tmp_path / "bin", "id"), python=str(old))
    assert done.returncode == 1
    assert "botarena needs Python 3.11 or later" in done.stderr
    assert "make demo PYTHON=python3.11" in done.stderr


def test_not_root_stops_at_once_with_the_command(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if os.geteuid() == 0:
        if not os.access(SYSTEM_PYTHON, os.X_OK):
            pytest.skip("trying as another user needs the system's python3")
        # Another user, to be sure nothing is installed: the script sits where it can read it
        # (the test's own folder is root's alone).
        shared = Path(tempfile.mkdtemp(prefix="botarena-deps-", dir="/tmp"))
        request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
        shared.chmod(0o755)
        copy = shared / "demo-deps.sh"
        shutil.copy(SCRIPT, copy)
        copy.chmod(0o755)
        path = _bin(shared / "bin", "id", "apt-get")
        (shared / "bin").chmod(0o755)
        done = subprocess.run(
            ["/bin/bash", str(copy)],
            # The system's interpreter: another user may not enter this one's folder.
            env={"PATH": str(path), "PYTHON": SYSTEM_PYTHON, "TOOLS": str(shared / "none")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            user=NOBODY,
            group=NOBODY,
            extra_groups=[],
        )
    else:
        done = _run(_bin(tmp_path / "bin", "id", "apt-get"))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "The demo needs: bubblewrap. Run:",
        "  sudo apt-get update && sudo apt-get install -y bubblewrap",
        "then make demo again.",
    ]
