"""What an executor agrees to run: only what it can verify as an artifact of the platform.

A caller names each agent's artifact; the executor checks it before anything starts:

- a **folder** must lie under the executor's own artifact root (``artifacts/`` of its data
  folder), below a submission's folder, reached without any symbolic link and without ``..``;
  its environment, if any, must be a finished one under ``cache/envs/``. What the agent runs
  comes from the folder's own ``botarena.toml`` (or the SDK for a ``main.py``), never from
  the caller: a spec that names a command is refused.
- an **image** must come from the configured registry and name its digest (the image is then
  run by digest, so what runs is exactly what was built); without a registry, only the
  platform's own local images (``botarena/agent-…``) are run.

Anything else is refused with a sentence saying why; the service logs each refusal. A folder
is held while its match plays (see :mod:`.artifact_folders`): one retired and removed before
its match could hold it is refused too, and the match goes back to the queue.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from botarena.executor.artifact_folders import ArtifactGoneError, Hold
from botarena.executor.installers.base import PrepareError
from botarena.executor.prepare import COMPLETE_MARKER, ENVS, PreparedAgent, read_command
from botarena.executor.proto import executor_pb2 as pb
from botarena.settings import Settings

# Under an executor's data folder: built agents' folders, and the cache of environments.
ARTIFACTS = "artifacts"
CACHE = "cache"
LOCAL_IMAGES = "botarena/agent-"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class ArtifactRefusedError(ValueError):
    """The spec names something that is not a verifiable artifact of the platform."""


@dataclass(frozen=True)
class ArtifactPolicy:
    """Where this executor's artifacts are, and the registries its images come from (the
    ``docker`` backend's ``BOTARENA_REGISTRY``, the ``kubernetes`` backend's
    ``BOTARENA_K8S_REGISTRY``)."""

    root: Path
    registries: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> ArtifactPolicy:
        registries = (settings.registry, settings.k8s_registry)
        return cls(Path(os.path.realpath(settings.data_dir)), tuple(r for r in registries if r))

    def agent(self, spec: pb.AgentSpec) -> PreparedAgent:
        """The agent ``spec`` names, verified; raises ArtifactRefusedError otherwise."""
        name = spec.name or "agent"
        if spec.command:
            raise ArtifactRefusedError(
                f"agent {name!r}: a caller may not name the command; it comes from the "
                "artifact's own botarena.toml"
            )
        if spec.image:
            if spec.code_dir or spec.env_dir:
                raise ArtifactRefusedError(f"agent {name!r} names both an image and a folder")
            return PreparedAgent.from_image(name, self._image(name, spec.image, spec.image_digest))
        if not spec.code_dir:
            raise ArtifactRefusedError(f"agent {name!r} names neither a folder nor an image")
        code_dir = self._inside(name, spec.code_dir, self.root / ARTIFACTS, min_depth=2)
        if not code_dir.is_dir():
            raise ArtifactRefusedError(f"agent {name!r}: {spec.code_dir} is not a folder")
        env_dir = None
        if spec.env_dir:
            env_dir = self._inside(name, spec.env_dir, self.root / CACHE / ENVS, min_depth=1)
            if not (env_dir / COMPLETE_MARKER).is_file():
                raise ArtifactRefusedError(
                    f"agent {name!r}: {spec.env_dir} is not a built environment"
                )
        try:
            command = read_command(code_dir)
        except PrepareError as exc:
            raise ArtifactRefusedError(f"agent {name!r}: {exc}") from exc
        return PreparedAgent(name, code_dir, env_dir, command)

    def hold(self, agents: Sequence[PreparedAgent]) -> list[Hold]:
        """Hold each agent's folder for its match (release them after); refuses the match
        when one was removed since it was checked."""
        holds: list[Hold] = []
        for agent in agents:
            if agent.image is not None:
                continue
            try:
                holds.append(Hold(agent.code_dir).take())
            except ArtifactGoneError as exc:
                for hold in holds:
                    hold.release()
                raise ArtifactRefusedError(f"agent {agent.name!r}: {exc}") from exc
        return holds

    def _inside(self, name: str, given: str, base: Path, *, min_depth: int) -> Path:
        """``given`` as a path at least ``min_depth`` levels below ``base``, with no ``..``
        and no symbolic link anywhere on the way (the resolved path is the path given)."""
        path = Path(given)
        if not path.is_absolute() or ".." in path.parts or os.path.normpath(given) != given:
            raise ArtifactRefusedError(
                f"agent {name!r}: {given!r} is not a plain absolute path under the artifact root"
            )
        if not path.is_relative_to(base) or len(path.relative_to(base).parts) < min_depth:
            raise ArtifactRefusedError(
                f"agent {name!r}: {given} is outside this executor's artifact root ({base})"
            )
        if os.path.realpath(path) != str(path):
            raise ArtifactRefusedError(f"agent {name!r}: {given} passes through a symbolic link")
        return path

    def _image(self, name: str, image: str, digest: str) -> str:
        if not self.registries:
            if not image.startswith(LOCAL_IMAGES) or "@" in image:
                raise ArtifactRefusedError(
                    f"agent {name!r}: image {image!r} is not one of the platform's own "
                    f"({LOCAL_IMAGES}…), and no registry is configured"
                )
            return image
        prefixes = [registry.rstrip("/") + "/" for registry in self.registries]
        prefix = next((p for p in prefixes if image.startswith(p)), None)
        if prefix is None or "@" in image:
            raise ArtifactRefusedError(
                f"agent {name!r}: image {image!r} is not from a configured registry "
                f"({', '.join(prefixes)})"
            )
        if not _DIGEST.fullmatch(digest):
            raise ArtifactRefusedError(f"agent {name!r}: image {image!r} comes without its digest")
        repository = image.rpartition(":")[0] if ":" in image[len(prefix) :] else image
        return f"{repository}@{digest}"
