"""A sandboxed install that must fail (a hostile build's ``setup.py`` probes, then exits),
and what it printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from botarena.executor.installers import Installer
from botarena.executor.prepare import PrepareError, build_environment


def failed_install(installer: Installer, folder: Path, envs: Path) -> tuple[str, list[str]]:
    """Install ``folder``'s requirements.txt, which must fail; the reason and every line."""
    lines: list[str] = []
    with pytest.raises(PrepareError) as caught:
        build_environment(
            folder / "requirements.txt", envs, installer=installer, on_output=lines.append
        )
    return caught.value.reason, lines
