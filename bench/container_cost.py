"""What one match-agent's container costs the engine in CPU, and the match rate that caps.

    python bench/container_cost.py --containers 40 --rounds 3 --json

Why: the docker runner gives every match-agent a container of its own, removed after its
match (warm or cold). Whatever the runner overlaps, each container's create, start, kill and
removal is CPU the engine spends (dockerd, containerd, the container's shim, runc), on the
same cores as the matches. This bench measures that CPU, so the docker runner's rate can be
read against its ceiling: with ``E`` ms of engine CPU per container and two containers per
match, ``cores * 1000 / (2 * E)`` matches a second even if the agents and the referee cost
nothing.

How: a private ``dockerd`` (the tests' own, data in a temporary folder) is started inside a
cgroup of the cpuacct controller of its own, so the engine and every process it starts
(containerd, shims, runc) are charged to it, including the ones that exit; containers get
another cgroup parent, so the agents' own CPU is counted apart. Each container is what the
runner starts for a match-agent (the runner's own ``start`` and ``close``: its limits, no
network, read-only root, attached stdio), runs a one-line echo, answers one line and is
closed and removed. ``--runtime runsc`` measures gVisor. The bench's own process (the Engine
API client, in the runner) is counted too. Needs root and cgroup v1's cpuacct controller.

It prints, per round: engine, container and client CPU ms per container, wall ms per
container, and the implied ceiling in matches per second on this machine's cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from botarena.executor.prepare import PreparedAgent  # noqa: E402
from botarena.executor.runners.docker import DockerRunner  # noqa: E402

CPUACCT = Path("/sys/fs/cgroup/cpuacct")
_ECHO = ("python3", "-c", "import sys; sys.stdout.write(sys.stdin.readline()); sys.stdout.flush()")


class Meter:
    """A cpuacct cgroup of this bench's, read in milliseconds of CPU."""

    def __init__(self, name: str) -> None:
        self.path = CPUACCT / f"botarena-bench-{name}"
        self.path.mkdir(exist_ok=True)

    def ms(self) -> float:
        return int((self.path / "cpuacct.usage").read_text()) / 1e6

    def join(self) -> None:
        """Move this process into the cgroup (its children from now on are born there)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        # A process still in it (the engine being stopped): the next run reuses it.
        with contextlib.suppress(OSError):
            self.path.rmdir()


@contextmanager
def _meters() -> Iterator[tuple[Meter, Meter, Meter]]:
    meters = (Meter("engine"), Meter("containers"), Meter("client"))
    try:
        yield meters
    finally:
        # Out of them before they are removed (a cgroup with a process cannot be).
        (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))
        for meter in meters:
            meter.remove()


def _one_container(runner: DockerRunner, image: str) -> None:
    process = runner.start(
        PreparedAgent("bench", Path("/agent"), None, _ECHO, image=image), name="cost"
    )
    try:
        process.stdin.write(b"ping\n")
        process.stdin.flush()
        if process.stdout.readline() != b"ping\n":
            raise RuntimeError(f"the container did not echo: {process.exit_reason()}")
    finally:
        process.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=40, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runtime", default=None, help="e.g. runsc (gVisor)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not CPUACCT.is_dir():
        raise SystemExit("needs cgroup v1's cpuacct controller at /sys/fs/cgroup/cpuacct")

    sys.path.insert(0, str(ROOT / "tests"))
    from support.docker import build_python_image, start_docker

    cores = os.cpu_count() or 1
    rounds: list[dict[str, float]] = []
    with _meters() as (engine_meter, container_meter, client_meter):
        engine_meter.join()
        engine = start_docker({"cgroup-parent": f"/{container_meter.path.name}"})
        client_meter.join()
        try:
            client = engine.client()
            image = build_python_image(client, "botarena-bench/python:3.11")
            with DockerRunner(client, runtime=args.runtime) as runner:
                _one_container(runner, image)  # the image's layers read once, off the books
                for _ in range(args.rounds):
                    before = [m.ms() for m in (engine_meter, container_meter, client_meter)]
                    started = time.perf_counter()
                    for _ in range(args.containers):
                        _one_container(runner, image)
                    wall = (time.perf_counter() - started) * 1000 / args.containers
                    after = [m.ms() for m in (engine_meter, container_meter, client_meter)]
                    engine_ms, container_ms, client_ms = (
                        (a - b) / args.containers for a, b in zip(after, before, strict=True)
                    )
                    rounds.append(
                        {
                            "engine_cpu_ms": round(engine_ms, 1),
                            "container_cpu_ms": round(container_ms, 1),
                            "client_cpu_ms": round(client_ms, 1),
                            "wall_ms": round(wall, 1),
                            "ceiling_matches_per_s": round(cores * 1000 / (2 * engine_ms), 2),
                        }
                    )
            client.close()
        finally:
            engine.stop()

    medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    result = {"cores": cores, "runtime": args.runtime or "runc", "rounds": rounds}
    result["median"] = medians
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for number, figures in enumerate(rounds, 1):
        print(f"round {number}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    print("median: " + ", ".join(f"{k} {v}" for k, v in medians.items()))


if __name__ == "__main__":
    main()
