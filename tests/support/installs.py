"""A sandboxed install that must fail (a hostile build's ``setup.py`` probes, then exits),
and what it printed; finding install sandboxes still alive."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from botarena.executor.installers import Installer
from botarena.executor.installers.sandboxed import PROGRAM
from botarena.executor.prepare import PrepareError, build_environment


def failed_install(installer: Installer, folder: Path, envs: Path) -> tuple[str, list[str]]:
    """Install ``folder``'s requirements.txt, which must fail; the reason and every line."""
    lines: list[str] = []
    with pytest.raises(PrepareError) as caught:
        build_environment(
            folder / "requirements.txt", envs, installer=installer, on_output=lines.append
        )
    return caught.value.reason, lines


def assert_no_install_left(folder: Path, seconds: float = 3.0) -> None:
    """No install sandbox working in ``folder`` alive, waiting ``seconds`` at most for the
    last ones to go. Its bubblewrap processes name the install's folders (the install's gate
    is one); once they are gone, the sandbox's pid namespace, and every process in it, is
    gone too. Other tests may be running sandboxes on this machine meanwhile, so nothing else
    is looked at."""
    deadline = time.monotonic() + seconds
    while left := processes_with(PROGRAM.encode()) & processes_with(str(folder).encode()):
        assert time.monotonic() < deadline, f"install processes left running: {sorted(left)}"
        time.sleep(0.05)


def processes_with(marker: bytes) -> set[int]:
    """Pids of live processes whose command line holds ``marker``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # A zombie's command line reads empty: it runs nothing.
            if marker in (entry / "cmdline").read_bytes():
                found.add(int(entry.name))
        except OSError:
            continue
    return found
