"""Build code under the syscall filter: a ``setup.py`` run by pip in the install sandbox gets
EPERM for every denied call, as an agent does, while ordinary build work goes on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from botarena.executor.installers import SandboxedInstaller

from support.installs import failed_install
from support.syscalls import expected_results, logged, probe_source

MakeFolder = Callable[[str, dict[str, str]], Path]

pytestmark = pytest.mark.usefixtures("no_install_left")

# pip shows a build's output only when it fails: report, then fail.
PROBING_SETUP_PY = (
    probe_source()
    + """
print("SYSCALLS", json.dumps(probe_syscalls()), flush=True)
print("ORDINARY", json.dumps(ordinary_calls()), flush=True)
sys.exit(1)
"""
)


def test_build_code_gets_eperm_for_every_denied_call(
    sandboxed_installer: SandboxedInstaller, make_folder: MakeFolder, tmp_path: Path
) -> None:
    folder = make_folder(
        "syscalls", {"requirements.txt": "./pkg\n", "pkg/setup.py": PROBING_SETUP_PY}
    )
    reason, lines = failed_install(sandboxed_installer, folder, tmp_path / "envs")
    assert reason == "dependencies_failed"
    # pip indents a failing build's output; the probe's lines start after the indent.
    log = "\n".join(line.strip() for line in lines)
    tried = logged(log, "SYSCALLS")
    assert tried["keyctl"] == tried["add_key"] == tried["ptrace_traceme"] == 1
    assert tried == expected_results(tried)
    ordinary = logged(log, "ORDINARY")
    assert ordinary["seccomp_mode"] == ordinary["subprocess_seccomp_mode"] == "2", ordinary
    assert {v for k, v in ordinary.items() if "seccomp" not in k} == {"ok"}, ordinary
    assert list((tmp_path / "envs").iterdir()) == []
