"""The docker runner's warm containers, on the run's private engine: confined like cold ones,
each serving one agent, nothing of the agent running before its match, replaced images and
dead containers discarded, stale ones of a dead process swept, nothing left once closed."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from botarena.builds.images import ImageBuilder
from botarena.executor.match import run_match
from botarena.executor.prepare import PreparedAgent
from botarena.executor.runners.docker import LABEL, DockerRunner
from botarena.executor.runners.reaper import OWNER_LABEL
from botarena.executor.runners.warm_pool import WARM_LABEL, WarmPool, process_label
from botarena.executor.sandbox import Limits
from botarena.executor.sandbox.limits import MIB
from botarena.games.registry import get_game

from support.agent_sources import FAIR
from support.docker import Engine

LIMITS = Limits(memory_bytes=128 * MIB, pids=32, tmp_bytes=8 * MIB)


@pytest.fixture
def client(docker_daemon: Engine) -> Iterator[docker.DockerClient]:
    client = docker_daemon.client()
    yield client
    client.close()


@pytest.fixture
def runner(client: docker.DockerClient) -> Iterator[DockerRunner]:
    runner = DockerRunner(client, LIMITS, warm_per_image=2, warm_total=4)
    yield runner
    runner.close()
    assert runner.leftovers() == [], "agent containers left behind"


def _build(client: docker.DockerClient, base: str, folder: Path, source: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.py").write_text(source)
    builder = ImageBuilder(client, base, network="host")
    return builder.build(
        folder, f"botarena-test/warm-{folder.name}:latest", lambda _: None
    ).reference


@pytest.fixture
def image(client: docker.DockerClient, python_image: str, tmp_path: Path) -> str:
    return _build(client, python_image, tmp_path / "fair", FAIR)


def _play(runner: DockerRunner, image: str) -> Any:
    game = get_game("connectx")
    agents = [PreparedAgent.from_image("p0", image), PreparedAgent.from_image("p1", image)]
    return run_match(game, game.configure({}), agents, runner, seed=3)


def _warm_ids(client: docker.DockerClient) -> set[str]:
    found = client.api.containers(all=True, filters={"label": WARM_LABEL})
    return {c["Id"] for c in found}


def test_warm_containers_are_confined_like_cold_ones_and_run_only_our_waiter(
    runner: DockerRunner, client: docker.DockerClient, image: str
) -> None:
    assert runner.pool is not None
    assert runner.pool.warm(image, None, timeout=60)
    warm = _warm_ids(client)
    assert len(warm) == 2
    cold = runner._create(PreparedAgent.from_image("p0", image), image, "p0")["Id"]
    try:
        expected = client.api.inspect_container(cold)["HostConfig"]
        for container_id in warm:
            seen = client.api.inspect_container(container_id)
            host = seen["HostConfig"]
            for key in (
                "NetworkMode",
                "ReadonlyRootfs",
                "Memory",
                "MemorySwap",
                "PidsLimit",
                "NanoCpus",
                "CapDrop",
                "SecurityOpt",
                "IpcMode",
                "Tmpfs",
                "Ulimits",
                "Runtime",
            ):
                assert host[key] == expected[key], key
            assert seen["Config"]["User"] == "65534:65534"
            assert seen["Config"]["NetworkDisabled"] is True
            # Nothing of the agent runs before its match: only the waiter's shell.
            processes = client.api.top(container_id)["Processes"]
            assert len(processes) == 1, processes
            assert processes[0][-1].startswith("/bin/sh -c echo; read -r _"), processes
    finally:
        client.api.remove_container(cold, force=True)


def test_each_warm_container_serves_one_agent_then_goes(
    runner: DockerRunner, client: docker.DockerClient, image: str
) -> None:
    assert runner.pool is not None
    played: list[str] = []
    take = runner.pool.take

    def spy(*args: Any) -> Any:
        warm = take(*args)
        if warm is not None:
            played.append(warm.container_id)
        return warm

    runner.pool.take = spy  # type: ignore[method-assign]
    for _ in range(3):
        assert runner.pool.warm(image, None, timeout=60)
        result = _play(runner, image)
        assert result.status.value == "finished", result.error
        assert [a.status.value for a in result.agents] == ["DONE", "DONE"]
    assert len(played) == 6 and len(set(played)) == 6, "a warm container served twice"
    assert runner.pool.hits == 6
    runner.close()
    assert not set(played) & {c["Id"] for c in client.api.containers(all=True)}


def test_a_rebuilt_image_discards_the_containers_of_the_old_one(
    runner: DockerRunner, client: docker.DockerClient, python_image: str, tmp_path: Path
) -> None:
    assert runner.pool is not None
    image = _build(client, python_image, tmp_path / "rebuilt", FAIR)
    assert runner.pool.warm(image, None, timeout=60)
    old = _warm_ids(client)
    _build(client, python_image, tmp_path / "rebuilt", FAIR + "\n# the second version\n")
    assert runner.pool.take(image, None) is None, "a container of the old image was taken"
    assert runner.pool.warm(image, None, timeout=60)
    new_id = client.api.inspect_image(image)["Id"]
    fresh = _warm_ids(client) - old
    assert len(fresh) == 2
    assert {client.api.inspect_container(c)["Image"] for c in fresh} == {new_id}
    result = _play(runner, image)
    assert result.status.value == "finished", result.error
    assert runner.pool.hits == 2


def test_dead_warm_containers_fall_back_to_cold_starts(
    runner: DockerRunner, client: docker.DockerClient, image: str
) -> None:
    """An engine restart kills what waits; the match then starts cold and is played."""
    assert runner.pool is not None
    assert runner.pool.warm(image, None, timeout=60)
    for container_id in _warm_ids(client):
        client.api.kill(container_id)
    result = _play(runner, image)
    assert result.status.value == "finished", result.error
    assert [a.status.value for a in result.agents] == ["DONE", "DONE"]
    assert runner.pool.misses >= 1, "a dead container was handed out"


def test_a_deleted_image_starts_cold_and_is_pulled_again(
    runner: DockerRunner, client: docker.DockerClient, python_image: str, tmp_path: Path
) -> None:
    assert runner.pool is not None
    image = _build(client, python_image, tmp_path / "deleted", FAIR)
    assert runner.pool.warm(image, None, timeout=60)
    client.api.remove_image(image, force=True)
    assert runner.pool.take(image, None) is None
    runner.close()  # the discarded containers go with the pool
    assert _warm_ids(client) == set()


def test_a_new_pool_sweeps_the_warm_containers_of_a_dead_process(
    client: docker.DockerClient, image: str
) -> None:
    mine = process_label()
    host = mine.split(":")[0]
    dead = client.api.create_container(
        image, command=["true"], labels={WARM_LABEL: f"{host}:999999999:1"}
    )["Id"]
    alive = client.api.create_container(image, command=["true"], labels={WARM_LABEL: mine})["Id"]
    try:
        WarmPool(client, lambda *a: ("", None), per_image=1, total=1).close()
        left = _warm_ids(client)
        assert dead not in left and alive in left
    finally:
        for container_id in (dead, alive):
            with contextlib.suppress(docker.errors.NotFound):
                client.api.remove_container(container_id, force=True)


def test_a_container_waits_at_most_max_idle(client: docker.DockerClient, image: str) -> None:
    with DockerRunner(client, LIMITS, warm_per_image=1, warm_total=1) as runner:
        assert runner.pool is not None
        runner.pool.max_idle = 0.5
        assert runner.pool.warm(image, None, timeout=60)
        first = _warm_ids(client)
        deadline = time.monotonic() + 20
        while _warm_ids(client) & first and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _warm_ids(client) & first, "a warm container outlived max_idle"
        assert runner.pool.warm(image, None, timeout=60)
    assert runner.leftovers() == []


def test_an_image_is_kept_warm_once_it_plays_again(
    runner: DockerRunner, client: docker.DockerClient, image: str
) -> None:
    """One that plays once in a while (a ladder of many agents) costs no warm containers."""
    assert runner.pool is not None
    assert runner.pool.take(image, None) is None
    time.sleep(1)
    assert _warm_ids(client) == set(), "an image asked for once was warmed"
    assert runner.pool.take(image, None) is None
    deadline = time.monotonic() + 30
    while len(_warm_ids(client)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_warm_ids(client)) == 2
    taken = runner.pool.take(image, None)
    assert taken is not None
    runner.pool.hand_back(taken.container_id, taken.stream)


def test_a_runner_sweeps_the_agent_containers_of_a_dead_process(
    client: docker.DockerClient, image: str
) -> None:
    """An executor killed outright leaves its matches' containers, cold or warm: the next
    runner on this host removes them, and keeps those of live processes."""
    host = process_label().split(":")[0]
    made = {
        owner: client.api.create_container(
            image, command=["true"], labels={LABEL: "p0", OWNER_LABEL: owner}
        )["Id"]
        for owner in (f"{host}:999999999:1", process_label())
    }
    try:
        DockerRunner(client, LIMITS).close()
        left = {c["Id"] for c in client.api.containers(all=True, filters={"label": LABEL})}
        assert made[process_label()] in left
        assert made[f"{host}:999999999:1"] not in left
    finally:
        for container_id in made.values():
            with contextlib.suppress(docker.errors.NotFound):
                client.api.remove_container(container_id, force=True)


@pytest.mark.parametrize("warm", [0, 1])
def test_a_container_whose_removal_failed_is_reaped(
    client: docker.DockerClient, image: str, monkeypatch: pytest.MonkeyPatch, warm: int
) -> None:
    """The engine was down when a match ended (its removal failed): the runner removes the
    container later, and at the latest when it closes."""
    runner = DockerRunner(client, LIMITS, warm_per_image=warm, warm_total=2)
    removals = client.api.remove_container

    def engine_down(container_id: str, **options: Any) -> None:
        raise docker.errors.APIError("the engine does not answer")

    try:
        monkeypatch.setattr(client.api, "remove_container", engine_down)
        if runner.pool is not None:
            runner.pool.close()  # its removals would be refused too: the reaper's turn
            runner.pool = None
        assert _play(runner, image).status.value == "finished"
        assert len(runner.leftovers()) == 2
        monkeypatch.setattr(client.api, "remove_container", removals)
    finally:
        runner.close()
    assert runner.leftovers() == []
