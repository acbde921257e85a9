"""Docker builds through the platform's egress proxy: the part of the confinement this side
can enforce, tried with a real build on the run's dockerd.

The tests' engine has no bridge, so its builds run on the host's network, where a build step
can connect anywhere directly; confining that is the build network's job (an internal
network whose only way out is the proxy, see docs/architecture.md). What is tested here: pip
in a generated Dockerfile goes through the proxy the build is handed, and the proxy refuses
what is off the allow-list.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from botarena.builds.backends.docker import DockerBackend
from botarena.builds.images import pip_settings
from botarena.builds.pipeline import BuildPipeline
from botarena.builds.queue import BuildQueue
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.docker import Engine
from support.egress import Listener

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"
RANDOM_AGENT = (EXAMPLES / "connectx-random" / "main.py").read_bytes()

PROBING_SETUP_PY = """\
import os
import socket
import sys

proxy = os.environ.get("HTTPS_PROXY", "").removeprefix("http://").rstrip("/")
print("PROXY", proxy or "none", flush=True)
host, _, port = proxy.rpartition(":")
crlf = bytes([13, 10])
with socket.create_connection((host, int(port)), timeout=30) as client:
    target = "127.0.0.1:{port}"
    client.sendall(crlf.join([f"CONNECT {{target}} HTTP/1.1".encode(), b"", b""]))
    print("PROBE tunnel", target, client.recv(200).split(crlf)[0].decode(), flush=True)
sys.exit(1)
"""


@pytest.fixture
def loopback() -> Iterator[Listener]:
    listener = Listener("127.0.0.1")
    yield listener
    listener.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_docker_build_goes_through_the_egress_proxy(
    client: TestClient,
    alice: Account,
    settings: Settings,
    session_factory: SessionFactory,
    docker_daemon: Engine,
    python_image: str,
    loopback: Listener,
) -> None:
    configured = settings.model_copy(
        update={
            "build_backend": "docker",
            "docker_host": docker_daemon.url,
            "docker_base_image": python_image,
            "docker_build_network": "host",
            "docker_build_proxy_host": "127.0.0.1",
        }
    )
    files = {
        "main.py": RANDOM_AGENT,
        "requirements.txt": b"six==1.16.0\n./canary\n",
        "canary/setup.py": PROBING_SETUP_PY.format(port=loopback.port).encode(),
    }
    agent = create_agent(client, alice, "proxied")
    sub = submit_archive(client, alice, agent, zip_files(files))
    backend = DockerBackend(configured)
    try:
        with session_factory() as session:
            claimed = BuildQueue(session).claim_next("docker-worker", "docker", 60)
            session.commit()
        assert claimed is not None and claimed.id == sub
        BuildPipeline(session_factory, configured, backend, worker="docker-worker").run(sub)
    finally:
        backend.close()

    status = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    log = client.get(f"/api/v1/submissions/{sub}/build-logs", headers=alice.headers).json()[
        "buildLog"
    ]
    assert status["status"] == "build_failed", log[-3000:]
    assert "network: the egress proxy admits files.pythonhosted.org:443, pypi.org:443" in log
    # pip fetched six through the proxy the build was handed ...
    assert "egress: tunnel to pypi.org:443" in log
    assert "egress: tunnel to files.pythonhosted.org:443" in log
    assert "PROXY 127.0.0.1:" in log
    # ... which refused the build code's tunnel to the host's loopback.
    assert f"PROBE tunnel 127.0.0.1:{loopback.port} HTTP/1.1 403 Forbidden" in log
    refusal = (
        f"egress refused by policy: 127.0.0.1:{loopback.port} is not on the build's allow-list"
    )
    assert refusal in log
    assert loopback.reached() == 0


def test_the_hosts_proxy_settings_stay_out_of_a_proxied_build() -> None:
    environ = {
        "PIP_INDEX_URL": "https://index.example/simple",
        "PIP_PROXY": "http://user:secret@proxy.example:3128",
        "HTTPS_PROXY": "http://proxy.example:3128",
        "no_proxy": "localhost",
    }
    proxied = pip_settings(environ, ca=None, proxies=False)
    assert proxied["PIP_INDEX_URL"] == "https://index.example/simple"
    assert not [name for name in proxied if name.upper().endswith("_PROXY")]
    assert pip_settings(environ, ca=None)["HTTPS_PROXY"] == "http://proxy.example:3128"
