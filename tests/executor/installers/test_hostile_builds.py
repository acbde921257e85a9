"""Build code that attacks the host from inside the install sandbox: it reads and writes
where it must not, hangs, and leaves processes behind. None of it reaches the host."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from botarena.executor.installers import SandboxedInstaller
from botarena.executor.installers.sandboxed import GATE_DIR, SOURCE_DIR
from botarena.executor.prepare import PrepareError, build_environment
from botarena.executor.sandbox import python_runtime_binds

from support.installs import failed_install

MakeFolder = Callable[[str, dict[str, str]], Path]
ProcessesWith = Callable[[bytes], set[int]]

pytestmark = pytest.mark.usefixtures("no_install_left")

PROBING_SETUP_PY = """\
import os
import sys


def attempt(label, action):
    try:
        result = action()
    except OSError as exc:
        print(f"PROBE {{label}}: denied ({{type(exc).__name__}})", flush=True)
    else:
        print(f"PROBE {{label}}: ALLOWED {{result!r}}", flush=True)


attempt("write outside /tmp", lambda: open({escape!r}, "w").write("x"))
attempt("write /usr", lambda: open("/usr/local/botarena-escape", "w").write("x"))
attempt("write the agent folder", lambda: open("{source}/requirements.txt", "a").write("x"))
attempt("write the gate", lambda: open("{gate}/escape", "w").write("x"))
attempt("list the gate", lambda: os.listdir("{gate}"))
attempt("read /etc/shadow", lambda: open("/etc/shadow").read())
attempt("read a host file", lambda: open({secret!r}).read())
print("ROOT", sorted(os.listdir("/root")) if os.path.isdir("/root") else [], flush=True)
sys.exit(1)
"""


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_build_code_cannot_read_or_write_the_host(
    sandboxed_installer: SandboxedInstaller, make_folder: MakeFolder, tmp_path: Path
) -> None:
    escape = Path("/var/tmp") / f"botarena-escape-{secrets.token_hex(6)}"
    secret = tmp_path / "secret.txt"
    secret.write_text("the host's secret\n")
    setup = PROBING_SETUP_PY.format(
        escape=str(escape), secret=str(secret), source=SOURCE_DIR, gate=GATE_DIR
    )
    folder = make_folder("hostile", {"requirements.txt": "./pkg\n", "pkg/setup.py": setup})
    before = _listing(folder)
    reason, lines = failed_install(sandboxed_installer, folder, tmp_path / "envs")
    assert reason == "dependencies_failed"
    probes = [line.strip() for line in lines if line.strip().startswith("PROBE ")]
    assert len(probes) == 7, lines[-40:]
    assert all(": denied (" in probe for probe in probes), probes
    # /root holds only the way to the Python runtime, when that lives under it.
    root = next(line for line in lines if line.strip().startswith("ROOT "))
    allowed = {part for _, inside in python_runtime_binds() for part in Path(inside).parts[2:3]}
    assert set(eval(root.strip()[5:])) <= allowed  # noqa: S307 - our own printed list
    assert not escape.exists()
    assert _listing(folder) == before
    assert secret.read_text() == "the host's secret\n"
    assert list((tmp_path / "envs").iterdir()) == []


HANGING_BACKEND = """\
import subprocess
import sys
import time


def get_requires_for_build_wheel(config_settings=None):
    subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)", {marker!r}],
        start_new_session=True,
    )
    time.sleep(600)
"""
IN_TREE_BACKEND = """\
[build-system]
requires = []
build-backend = "hang"
backend-path = ["."]
"""


def test_a_hanging_build_is_killed_at_the_timeout(
    sandboxed_installer: SandboxedInstaller,
    make_folder: MakeFolder,
    processes_with: ProcessesWith,
    tmp_path: Path,
) -> None:
    marker = f"botarena-hang-{secrets.token_hex(6)}"
    files = {
        "requirements.txt": "./pkg\n",
        "pkg/pyproject.toml": IN_TREE_BACKEND,
        "pkg/hang.py": HANGING_BACKEND.format(marker=marker),
    }
    folder = make_folder("hanging", files)
    started = time.monotonic()
    with pytest.raises(PrepareError) as caught:
        build_environment(
            folder / "requirements.txt",
            tmp_path / "envs",
            installer=sandboxed_installer,
            timeout=2,
        )
    elapsed = time.monotonic() - started
    print(f"a hanging build ended after {elapsed:.2f} s")
    assert caught.value.reason == "timeout"
    assert "took over 2 s" in str(caught.value)
    assert elapsed < 8
    assert not processes_with(marker.encode())
    assert list((tmp_path / "envs").iterdir()) == []


LINGERING_SETUP_PY = """\
import subprocess
import sys

from setuptools import setup

# Detached, and off pip's pipes (pip would wait for them to close).
subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(600)", {marker!r}],
    start_new_session=True,
    stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
setup(name="lingering", version="0.1", py_modules=["lingering"])
"""


def test_processes_left_by_a_successful_build_do_not_survive_it(
    sandboxed_installer: SandboxedInstaller,
    make_folder: MakeFolder,
    processes_with: ProcessesWith,
    tmp_path: Path,
) -> None:
    marker = f"botarena-linger-{secrets.token_hex(6)}"
    files = {
        "requirements.txt": "./pkg\n",
        "pkg/setup.py": LINGERING_SETUP_PY.format(marker=marker),
        "pkg/lingering.py": "",
    }
    folder = make_folder("lingering", files)
    env = build_environment(
        folder / "requirements.txt", tmp_path / "envs", installer=sandboxed_installer
    )
    assert list(env.glob("lib/python3*/site-packages/lingering.py"))
    assert not processes_with(marker.encode())


def test_a_requirements_file_linking_out_of_the_folder_binds_nothing_more(
    sandboxed_installer: SandboxedInstaller, make_folder: MakeFolder, tmp_path: Path
) -> None:
    elsewhere = make_folder("elsewhere", {"requirements.txt": "six\n", "secret.txt": "no\n"})
    folder = make_folder("linking", {"main.py": ""})
    (folder / "requirements.txt").symlink_to(elsewhere / "requirements.txt")
    with pytest.raises(PrepareError) as caught:
        build_environment(
            folder / "requirements.txt", tmp_path / "envs", installer=sandboxed_installer
        )
    # Only the agent's own folder is bound: inside, the link leads nowhere.
    assert caught.value.reason == "dependencies_failed"
    assert "No such file or directory" in str(caught.value)
