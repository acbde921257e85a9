"""From inside a build, no executor can be reached: neither one on a TCP port of the host's
loopback (a remote-style executor) nor the embedded one's Unix socket in the data folder.
A real install whose ``setup.py`` tries both, while both answer the dispatcher outside."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from botarena.executor.installers import SandboxedInstaller

from support.executors import dispatcher_client, serving_both_ways
from support.installs import failed_install

MakeFolder = Callable[[str, dict[str, str]], Path]

SETUP_PY = """\
import socket
import sys

for what, family, address in (
    ("tcp", socket.AF_INET, ("127.0.0.1", PORT)),
    ("unix", socket.AF_UNIX, SOCKET),
):
    probe = socket.socket(family, socket.SOCK_STREAM)
    probe.settimeout(5)
    try:
        probe.connect(address)
        print(f"EXECUTOR {what} REACHED", flush=True)
    except OSError as exc:
        print(f"EXECUTOR {what} BLOCKED {exc}", flush=True)
    finally:
        probe.close()
sys.exit("canary: done probing")
"""

pytestmark = pytest.mark.usefixtures("no_install_left")


def test_build_code_cannot_reach_an_executor(
    sandboxed_installer: SandboxedInstaller, make_folder: MakeFolder, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    with serving_both_ways(data_dir) as (address, socket):
        port = address.rpartition(":")[2]
        setup = f"PORT = {port}\nSOCKET = {str(socket)!r}\n{SETUP_PY}"
        folder = make_folder(
            "hostile", {"requirements.txt": "./canary\n", "canary/setup.py": setup}
        )
        _, lines = failed_install(sandboxed_installer, folder, tmp_path / "envs")
        for reached in (address, f"unix:{socket}"):
            with dispatcher_client(reached, data_dir) as client:
                assert client.health().serving, reached
    probes = [line for line in lines if "EXECUTOR " in line and "print(" not in line]
    assert any("EXECUTOR tcp BLOCKED" in line for line in probes), lines[-40:]
    assert any("EXECUTOR unix BLOCKED" in line for line in probes), lines[-40:]
    assert not any("REACHED" in line for line in probes), probes
