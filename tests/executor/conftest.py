"""Fixtures for match tests: the real sandboxed runner, agent folders, and leak checks."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from botarena.builds.images import ImageBuilder, local_image_name
from botarena.executor.prepare import PreparedAgent, prepare_agent
from botarena.executor.runners.base import Runner
from botarena.executor.runners.docker import DockerRunner
from botarena.executor.runners.local import LocalRunner
from botarena.executor.sandbox import Limits, detect_cgroup_driver
from botarena.executor.sandbox.limits import MIB
from executor.forkserver.forking import sandbox_processes

from support.docker import GVISOR, Engine
from support.runners import Runnable
from support.services import require_sandbox, require_service

IN_CI = os.environ.get("CI") == "true"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agents"


@pytest.fixture(params=[False, True], ids=["fresh-sandbox", "fork-server"])
def local_runner(request: pytest.FixtureRequest) -> Iterator[LocalRunner]:
    """The local runner alone, for tests of what only it runs (host-built environments)."""
    require_sandbox(cgroups=True)
    limits = Limits(memory_bytes=128 * MIB, pids=32, tmp_bytes=8 * MIB)
    with LocalRunner(limits, fork_server=request.param) as runner:
        yield runner


CONTAINER_RUNNERS = ("docker", "gvisor", "podman")


@pytest.fixture(params=["fresh-sandbox", "fork-server", *CONTAINER_RUNNERS])
def sandbox_runner(request: pytest.FixtureRequest) -> Iterator[Runner]:
    """Each real runner with tight limits: the local sandbox with and without the fork
    server, and containers on dockerd (its default runtime and gVisor) and on podman's
    service; fails under CI where one is unavailable. Container runners play from their pool
    of warm containers (``runnable`` warms each image it builds) and must leave no container
    behind once closed."""
    limits = Limits(memory_bytes=128 * MIB, pids=32, tmp_bytes=8 * MIB)
    if request.param in CONTAINER_RUNNERS:
        if request.param == "gvisor" and shutil.which("runsc") is None:
            require_service("gVisor", "runsc is not installed")
        engine, _ = _engine(request)
        client = engine.client()
        runtime = GVISOR if request.param == "gvisor" else None
        docker_runner = DockerRunner(client, limits, runtime=runtime, warm_per_image=2)
        try:
            yield docker_runner
            assert docker_runner.pool is not None
            assert docker_runner.pool.misses == 0, "an agent started cold, not from the pool"
            docker_runner.close()
            assert docker_runner.leftovers() == [], "agent containers left behind"
        finally:
            docker_runner.close()
            client.close()
        return
    require_sandbox(cgroups=True)
    with LocalRunner(limits, fork_server=request.param == "fork-server") as runner:
        yield runner


def _engine(request: pytest.FixtureRequest) -> tuple[Engine, str]:
    """The engine of the test's container runner, and the base image made in it."""
    if request.node.callspec.params.get("sandbox_runner") == "podman":
        return (
            request.getfixturevalue("podman_service"),
            request.getfixturevalue("podman_python_image"),
        )
    return request.getfixturevalue("docker_daemon"), request.getfixturevalue("python_image")


MakeAgent = Callable[[str, str], PreparedAgent]


@pytest.fixture
def runnable(request: pytest.FixtureRequest) -> Runnable:
    """``runnable(folder, cache)``: the agent in ``folder`` made ready for the test's runner:
    prepared in place for the local runner, built into an image for a docker runner."""
    runner = (
        request.getfixturevalue("sandbox_runner")
        if "sandbox_runner" in request.fixturenames
        else None
    )

    def make(folder: Path, cache: Path) -> PreparedAgent:
        prepared = prepare_agent(folder, cache)
        if not isinstance(runner, DockerRunner):
            return prepared
        _, base = _engine(request)
        # The tests' engine has no bridge network: requirements install on the host's.
        builder = ImageBuilder(runner.client, base, network="host")
        reference = f"botarena-test/{local_image_name(folder)}:latest"
        image = builder.build(folder, reference, lambda line: None)
        if runner.pool is not None:
            warmed = runner.pool.warm(image.reference, prepared.command, timeout=60)
            assert warmed, "the image was not warmed"
        return replace(prepared, image=image.reference)

    return make


@pytest.fixture
def make_agent(tmp_path: Path, runnable: Runnable) -> MakeAgent:
    """``make_agent(name, main_py_source)``: an agent folder holding that main.py, ready for
    the test's runner."""

    def make(name: str, source: str) -> PreparedAgent:
        folder = tmp_path / "agents" / name
        folder.mkdir(parents=True)
        (folder / "main.py").write_text(source)
        return runnable(folder, tmp_path / "cache")

    return make


@pytest.fixture
def no_leftovers() -> Iterator[None]:
    """After the test: no sandboxed process of ours alive and no cgroup of ours left.

    Only ours: the other test process of the run (and any other work on this machine) runs
    sandboxes of its own meanwhile. A sandbox process cannot leave our tree unseen: it keeps
    its cgroup, named after the process that made it (``….p<pid>``), which is checked here;
    a container runner's containers are checked by ``sandbox_runner``.
    """
    before = sandbox_processes()
    yield
    leaked = sandbox_processes() - before
    assert not leaked, f"sandboxed processes left running: {sorted(leaked)}"
    driver = detect_cgroup_driver()
    ours = f".p{os.getpid()}"
    for parent in getattr(driver, "parents", {}).values():
        children = (
            [p.name for p in parent.iterdir() if p.is_dir() and p.name.endswith(ours)]
            if parent.exists()
            else []
        )
        assert not children, f"cgroups left behind under {parent}: {children}"
