"""Installers: turn an agent's ``requirements.txt`` into a virtual environment.

:class:`HostInstaller` runs pip directly (a participant's own laptop); :class:`SandboxedInstaller`
runs it in a bubblewrap sandbox with time, memory and disk limits whose only network is an
allow-listing egress proxy (the server, where the packages' build code is untrusted; see
:mod:`.egress`). Both raise :class:`PrepareError` on failure.
"""

from botarena.executor.installers.base import Installer, OutputSink, PrepareError
from botarena.executor.installers.host import HostInstaller
from botarena.executor.installers.sandboxed import SandboxedInstaller

__all__ = ["HostInstaller", "Installer", "OutputSink", "PrepareError", "SandboxedInstaller"]
