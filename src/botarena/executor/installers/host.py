"""Installing requirements directly on this machine, for a participant's own laptop.

Nothing is isolated: the build code of every package named runs with the user's rights. That
is fine for one's own requirements (``botarena play``), never for anyone else's; the server
uses :class:`~botarena.executor.installers.sandboxed.SandboxedInstaller`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from botarena.executor.installers.base import OutputSink, OutputTail, PrepareError, say
from botarena.executor.sandbox.runtime import real_python

VENV_TIMEOUT = 120.0


class HostInstaller:
    """``python -m venv`` and the host's ``pip``, with the environment at its host path."""

    layout = "host"

    def install(
        self,
        requirements: Path,
        target: Path,
        *,
        on_output: OutputSink | None,
        timeout: float,
    ) -> None:
        python = str(real_python())
        say(on_output, f"creating an environment for {requirements.name}")
        run_step([python, "-m", "venv", "--without-pip", str(target)], on_output, VENV_TIMEOUT)
        pip = [python, "-m", "pip", "--python", str(target / "bin" / "python"), "install"]
        options = ["--no-input", "--disable-pip-version-check", "--no-warn-script-location"]
        # From the requirements' folder, so that a path such as ./pkg means the one beside it.
        argv = [*pip, *options, "-r", str(requirements)]
        run_step(argv, on_output, timeout, cwd=requirements.parent)


def run_step(
    argv: list[str], on_output: OutputSink | None, timeout: float, *, cwd: Path | None = None
) -> None:
    """Run one step, streaming its output, killed past ``timeout``."""
    try:
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            # Its own process group, so that a timeout also ends the build processes it started.
            start_new_session=True,
        )
    except OSError as exc:
        raise PrepareError("internal", f"cannot run {argv[0]}: {exc}") from exc
    assert process.stdout is not None
    output = OutputTail(on_output)
    reader = output.start(process.stdout)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise PrepareError("timeout", f"installing requirements took over {timeout:g} s") from exc
    finally:
        reader.join(timeout=5)
        process.stdout.close()
    if code != 0:
        raise PrepareError(
            "dependencies_failed",
            f"installing requirements failed (exit {code}): {output.last_line()}",
        )
