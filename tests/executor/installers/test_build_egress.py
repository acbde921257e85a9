"""A build's network: the package index through the egress proxy, and nothing else.

Real installs in the real sandbox: build code that tries the host's loopback, the host's
outside address, the metadata service and an IP literal, directly and through the proxy,
reaches none of them, and the build's log says the proxy refused it by policy.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from botarena.executor.installers import SandboxedInstaller
from botarena.executor.installers.egress.proxy import SOCKET_NAME
from botarena.executor.installers.sandboxed import EGRESS_DIR
from botarena.executor.prepare import build_environment

from support.egress import Targets, host_address, probes, targets
from support.installs import failed_install
from support.services import require_service

MakeFolder = Callable[[str, dict[str, str]], Path]

pytestmark = pytest.mark.usefixtures("no_install_left")


@pytest.fixture
def hostile_targets() -> Iterator[Targets]:
    outside = host_address()
    if outside is None:
        require_service("a non-loopback address on this host", "no default route")
    try:
        index = socket.gethostbyname("pypi.org")
    except OSError:
        index = "192.0.2.1"  # any IP literal off the allow-list does
    assert outside is not None
    with targets(outside, index) as found:
        yield found


def test_build_code_reaches_nothing_but_the_allow_list(
    sandboxed_installer: SandboxedInstaller,
    make_folder: MakeFolder,
    hostile_targets: Targets,
    tmp_path: Path,
) -> None:
    installer = SandboxedInstaller(sandboxed_installer.limits, egress_allow=hostile_targets.allow())
    setup = hostile_targets.setup_py(f"{EGRESS_DIR}/{SOCKET_NAME}")
    folder = make_folder("hostile", {"requirements.txt": "./canary\n", "canary/setup.py": setup})
    reason, lines = failed_install(installer, folder, tmp_path / "envs")
    assert reason == "dependencies_failed"
    found = probes(lines)
    print("\n".join(f"{label}: {result}" for label, result in found.items()))
    expected = len(hostile_targets.direct()) + 2 * len(hostile_targets.tunnels())
    assert len(found) == expected + len(hostile_targets.urls()), lines[-60:]

    hostile_targets.assert_nothing_reached(found)

    refusals = [line for line in lines if "egress refused by policy: " in line]
    for authority in hostile_targets.tunnels()[:-1]:
        assert f"{authority} is not on the build's allow-list" in "\n".join(refusals)
    localhost = hostile_targets.tunnels()[-1].partition(":")[0]
    assert f"{localhost} resolves to 127.0.0.1, a loopback address" in "\n".join(refusals)
    assert "169.254.169.254:80 is not on the build's allow-list" in "\n".join(refusals)
    assert not any(line.startswith("egress: tunnel to") and "localhost" in line for line in lines)


def test_a_package_from_the_index_comes_through_the_proxy(
    sandboxed_installer: SandboxedInstaller, make_folder: MakeFolder, tmp_path: Path
) -> None:
    folder = make_folder("index", {"requirements.txt": "six\n"})
    lines: list[str] = []
    build_environment(
        folder / "requirements.txt",
        tmp_path / "envs",
        installer=sandboxed_installer,
        on_output=lines.append,
    )
    assert any("Successfully installed six" in line for line in lines), lines[-10:]
    network = next(line for line in lines if line.startswith("network: "))
    assert "pypi.org:443" in network and "files.pythonhosted.org:443" in network
    # pip had no other way: each of its connections is one the proxy made.
    assert "egress: tunnel to pypi.org:443" in lines
    assert "egress: tunnel to files.pythonhosted.org:443" in lines
