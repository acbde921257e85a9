"""Installers: turn an agent's ``requirements.txt`` into a virtual environment.

:class:`HostInstaller` runs pip directly (a participant's own laptop); :class:`SandboxedInstaller`
runs it in a bubblewrap sandbox with network, time, memory and disk limits (the server, where
the packages' build code is untrusted). Both raise :class:`PrepareError` on failure.
"""

from botarena.executor.installers.base import Installer, OutputSink, PrepareError
from botarena.executor.installers.host import HostInstaller
from botarena.executor.installers.sandboxed import SandboxedInstaller

__all__ = ["HostInstaller", "Installer", "OutputSink", "PrepareError", "SandboxedInstaller"]
