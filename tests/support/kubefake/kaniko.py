"""A stand-in for Kaniko in the Docker kubelet: Kaniko's image cannot be pulled here, so a pod
whose container runs the configured builder image is built on the test Docker engine instead,
with Kaniko's command line, input and output:

- ``--context=tar://stdin``: the context is a gzipped tar read from the container's stdin
  until it closes (the platform attaches and streams it; see attach.py);
- ``--dockerfile`` (default ``Dockerfile``), one or more ``--destination``, ``--digest-file``
  (the pushed digest written there: at the ``terminationMessagePath`` it becomes the
  container's terminated message), ``--no-push``; ``--cache``, ``--cache-repo``,
  ``--snapshot-mode``, ``--push-retry``, ``--force`` and ``--verbosity`` are accepted;
  an unknown flag fails as Kaniko's command line does;
- the log is Kaniko-like (``INFO[0001] RUN …``, ``Running: [/bin/sh -c …]``, the step's
  output, ``Pushing image to …``, ``Pushed …@sha256:…``); a failing RUN step ends with
  ``error building image: error building stage: failed to execute command: waiting for process
  to exit: exit status N`` and exit code 1, as Kaniko does; any other error the same way with
  its own sentence.

The build runs through the engine's classic builder (``network`` is its network for RUN
steps) and pushes to the destinations' registry (the tests' registry on loopback).
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors

from . import podstatus
from .kubelet import PodRun
from .store import now

_ACCEPTED = {"cache", "cache-repo", "snapshot-mode", "push-retry", "force", "verbosity"}
_STEP = re.compile(r"^Step \d+/\d+ : (.*)$")
_ENGINE_ONLY = (" --->", "Removing intermediate", "Successfully built", "Successfully tagged")
_NON_ZERO = re.compile(r"returned a non-zero code: (\d+)")


class KanikoError(Exception):
    """Kaniko's last words: the message it prints before exiting 1."""


@dataclass
class KanikoArgs:
    context: str = ""
    dockerfile: str = "Dockerfile"
    destinations: list[str] = field(default_factory=list)
    digest_file: str | None = None
    push: bool = True

    @classmethod
    def parse(cls, args: list[str]) -> KanikoArgs:
        parsed = cls()
        for arg in args:
            name, _, value = arg.removeprefix("--").partition("=")
            if not arg.startswith("--"):
                raise KanikoError(f'Error: unknown command "{arg}" for "executor"')
            if name == "context":
                parsed.context = value
            elif name in ("dockerfile", "f"):
                parsed.dockerfile = value
            elif name in ("destination", "d"):
                parsed.destinations.append(value)
            elif name == "digest-file":
                parsed.digest_file = value
            elif name == "no-push":
                parsed.push = value not in ("", "true")
            elif name not in _ACCEPTED:
                raise KanikoError(f"Error: unknown flag: --{name}")
        return parsed


class KanikoStandIn:
    """Builds the pods that run ``image`` (the builder image of the platform's settings)."""

    def __init__(self, image: str, *, network: str | None = None) -> None:
        self.image = image
        self.network = network
        self.builds: list[str] = []  # the pods it built, in order

    def runs(self, pod: PodRun) -> bool:
        return any(c["image"] == self.image for c in pod.containers)

    def run(self, pod: PodRun, api: docker.APIClient) -> None:
        container = next(c for c in pod.containers if c["image"] == self.image)
        name = container["name"]
        started = now()
        pod.set_state(name, podstatus.running(started), image_id=f"docker://{self.image}")
        log = pod.log(name)
        clock = time.monotonic()

        def say(line: str) -> None:
            log.write(f"INFO[{int(time.monotonic() - clock):04d}] {line}\n".encode())

        outcome: dict[str, Any] = {}

        def build() -> None:
            try:
                outcome["digest"] = self._build(pod, container, api, say)
                outcome["code"] = 0
            except KanikoError as error:
                log.write(f"{error}\n".encode())
                outcome["code"] = 1

        self.builds.append(pod.name)
        worker = threading.Thread(target=build, name=f"kaniko-{pod.name}", daemon=True)
        worker.start()
        while worker.is_alive():
            if pod.killed.wait(0.05):
                return  # the kubelet marks the container killed
        message = outcome.get("digest") if container.get("terminationMessagePath") else None
        pod.set_state(
            name, podstatus.terminated(outcome["code"], started_at=started, message=message)
        )

    def _build(
        self,
        pod: PodRun,
        container: dict[str, Any],
        api: docker.APIClient,
        say: Callable[[str], None],
    ) -> str | None:
        args = KanikoArgs.parse(list(container.get("args") or []))
        if args.context != "tar://stdin":
            raise KanikoError(
                f"error building image: the stand-in reads tar://stdin only, not {args.context!r}"
            )
        if not args.destinations and args.push:
            raise KanikoError("Error: you must provide --destination, or use --no-push")
        if not container.get("stdin"):
            raise KanikoError("error building image: stdin is not open (stdin: true)")
        say("To simulate EOF and exit, press 'Ctrl+D'")
        data = pod.stdin(container["name"]).read_all(stop=pod.killed)
        if pod.killed.is_set():
            return None
        context = _context(data, args.dockerfile)
        say(f"Using dockerfile: {args.dockerfile}")
        tag = args.destinations[0] if args.destinations else f"kaniko-local/{pod.name}:latest"
        output = pod.log(container["name"])
        try:
            for info, line in self._steps(api, context, args.dockerfile, tag):
                if info:
                    say(line)
                else:
                    output.write(f"{line}\n".encode())
        except docker.errors.APIError as error:
            raise KanikoError(f"error building image: {error.explanation or error}") from error
        if pod.killed.is_set() or not args.push:
            return None
        digest = None
        for destination in args.destinations:
            repository, _, destination_tag = destination.rpartition(":")
            if destination != tag:
                api.tag(tag, repository, destination_tag)
            say(f"Pushing image to {destination}")
            digest = _push(api, repository, destination_tag)
            say(f"Pushed {repository}@{digest}")
        return digest

    def _steps(
        self, api: docker.APIClient, context: bytes, dockerfile: str, tag: str
    ) -> Iterator[tuple[bool, str]]:
        """(Kaniko's own INFO line or not, the line), as the build goes."""
        options: dict[str, Any] = {
            "fileobj": io.BytesIO(context),
            "custom_context": True,
            "encoding": "gzip",
            "dockerfile": dockerfile,
            "tag": tag,
            "rm": True,
            "forcerm": True,
            "decode": True,
            "pull": False,
        }
        if self.network:
            options["network_mode"] = self.network
        for chunk in api.build(**options):
            if "error" in chunk:
                error = str(chunk["error"]).strip()
                failed = _NON_ZERO.search(error)
                if failed:
                    raise KanikoError(
                        "error building image: error building stage: failed to execute command: "
                        f"waiting for process to exit: exit status {failed.group(1)}"
                    )
                raise KanikoError(f"error building image: {error}")
            for raw in str(chunk.get("stream") or "").splitlines():
                line = raw.rstrip()
                step = _STEP.match(line)
                if step:
                    instruction = step.group(1)
                    if instruction.upper().startswith("FROM "):
                        yield True, f"Retrieving image manifest {instruction.split()[1]}"
                    yield True, instruction
                    if instruction.upper().startswith("RUN "):
                        yield True, f"Running: [/bin/sh -c {instruction[4:]}]"
                elif line.strip() and not line.startswith(_ENGINE_ONLY):
                    yield False, line
        yield True, "Taking snapshot of full filesystem..."


def _context(data: bytes, dockerfile: str) -> bytes:
    """The context as Kaniko checks it: a gzipped tar holding the Dockerfile."""
    try:
        raw = gzip.decompress(data)
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            names = {member.name.removeprefix("./") for member in tar.getmembers()}
    except (OSError, EOFError, tarfile.TarError) as error:
        raise KanikoError(f"error building image: error unpacking the context: {error}") from error
    if dockerfile.removeprefix("./") not in names:
        raise KanikoError(
            "error resolving dockerfile path: please provide a valid path to a Dockerfile "
            "within the build context with --dockerfile"
        )
    return data


def _push(api: docker.APIClient, repository: str, tag: str) -> str:
    digest = None
    try:
        for chunk in api.push(repository, tag=tag, stream=True, decode=True):
            if "error" in chunk:
                raise KanikoError(f"error pushing image: {chunk['error']}")
            digest = (chunk.get("aux") or {}).get("Digest", digest)
    except docker.errors.APIError as error:
        raise KanikoError(f"error pushing image: {error}") from error
    if digest is None:
        raise KanikoError("error pushing image: the registry returned no digest")
    return str(digest)
