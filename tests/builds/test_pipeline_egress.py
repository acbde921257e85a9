"""A hostile submission through the whole build pipeline: its ``setup.py`` tries the host's
loopback, the host's outside address, the metadata service and an IP literal, directly and
through the egress proxy. Nothing is reached, and the participant's build log says why.

The backend is the one ``botarena serve`` makes from the settings, allow-list included.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from botarena.app import build_backend
from botarena.builds.backends.base import BuildBackend
from botarena.builds.pipeline import BuildPipeline
from botarena.builds.queue import BuildQueue
from botarena.db.engine import SessionFactory
from botarena.executor.installers.egress.proxy import SOCKET_NAME
from botarena.executor.installers.sandboxed import EGRESS_DIR
from botarena.settings import Settings

from support.accounts import Account
from support.api import create_agent, submit_archive, zip_files
from support.egress import Targets, host_address, probes, targets
from support.services import require_sandbox, require_service

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def hostile_targets() -> Iterator[Targets]:
    require_sandbox()
    outside = host_address()
    if outside is None:
        require_service("a non-loopback address on this host", "no default route")
    assert outside is not None
    try:
        index = socket.gethostbyname("pypi.org")
    except OSError:
        index = "192.0.2.1"
    with targets(outside, index) as found:
        yield found


@pytest.fixture
def settings(settings: Settings, hostile_targets: Targets) -> Settings:
    """The settings ``botarena serve`` would read, allowing a name that leads to the
    host's loopback: the proxy must refuse it all the same."""
    return settings.model_copy(update={"build_egress_allow": hostile_targets.allow()})


@pytest.fixture
def backend(settings: Settings) -> Iterator[BuildBackend]:
    made = build_backend(settings)
    yield made
    made.close()


def test_a_hostile_setup_py_reaches_nothing_and_the_log_says_so(
    client: TestClient,
    alice: Account,
    settings: Settings,
    session_factory: SessionFactory,
    backend: BuildBackend,
    hostile_targets: Targets,
) -> None:
    agent = create_agent(client, alice, "canary-bot")
    files = {
        "main.py": (EXAMPLES / "connectx-random" / "main.py").read_bytes(),
        "requirements.txt": b"./canary\n",
        "canary/setup.py": hostile_targets.setup_py(f"{EGRESS_DIR}/{SOCKET_NAME}").encode(),
    }
    sub = submit_archive(client, alice, agent, zip_files(files))
    with session_factory() as session:
        claimed = BuildQueue(session).claim_next("worker-1", "local", 60)
        session.commit()
    assert claimed is not None and claimed.id == sub
    BuildPipeline(session_factory, settings, backend, worker="worker-1").run(sub)

    status = client.get(f"/api/v1/submissions/{sub}/build-status").json()
    assert status["status"] == "build_failed"
    assert status["errorMessage"].startswith("dependencies_failed: "), status
    answer = client.get(f"/api/v1/submissions/{sub}/build-logs", headers=alice.headers)
    log = answer.json()["buildLog"]
    found = probes(log.splitlines())
    assert found, log[-3000:]
    hostile_targets.assert_nothing_reached(found)
    for authority in hostile_targets.tunnels()[:-1]:
        assert f"egress refused by policy: {authority} is not on the build's allow-list" in log
    assert "egress refused by policy: localhost resolves to 127.0.0.1, a loopback address" in log
    # The server's own folders stay out of the participant's log.
    assert str(settings.data_dir.resolve()) not in log
