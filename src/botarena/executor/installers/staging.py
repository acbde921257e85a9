"""The host folder an install sandbox copies its environment into, hidden from the install.

The sandbox gets read-write access to a *gate* folder that it may pass through but neither
list nor write to (as root, the gate belongs to another user); inside the gate, the staging
folder has a secret random name. Only the sandbox's trusted copy step learns that name, so
the untrusted build code cannot write to the host's disk at all, and the disk limit of the
sandbox's tmpfs holds. Run as an ordinary user, the gate cannot belong to anyone else, so
the build code could find the folder and write there; the server runs as root.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

# Any user but root (whom the sandbox user maps to) and without rights of its own here.
GATE_OWNER = 65534


class Staging:
    """A gate folder next to ``target``, holding a secretly named empty staging folder."""

    def __init__(self, target: Path) -> None:
        self.gate = Path(tempfile.mkdtemp(prefix=".install-", dir=target.parent))
        self.name = secrets.token_hex(16)
        self.folder = self.gate / self.name
        try:
            self.folder.mkdir(mode=0o700)
            if os.geteuid() == 0:
                os.chown(self.gate, GATE_OWNER, GATE_OWNER)
            self.gate.chmod(0o711)
        except BaseException:
            self.remove()
            raise

    def finish(self, target: Path) -> None:
        """Move the filled staging folder to ``target`` (absent or an empty folder)."""
        os.replace(self.folder, target)

    def remove(self) -> None:
        shutil.rmtree(self.gate, ignore_errors=True)
