"""The build backend interface and what a build produces."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from botarena.builds.log import BuildLog
from botarena.executor.artifact_folders import new_build_id
from botarena.executor.prepare import PreparedAgent
from botarena.executor.runners.base import MatchRunner, Runner


@dataclass(frozen=True)
class BuildTarget:
    """What is being built: a submission, the agent it belongs to, its version, the attempt's
    number (the submission's ``attempts`` when claimed), and this build attempt's own id (each
    attempt makes a new artifact; later ids sort after)."""

    submission_id: str
    agent_id: str
    version: int
    attempt: int = 1
    build_id: str = field(default_factory=new_build_id)


@dataclass(frozen=True)
class Artifact:
    """What a successful build left: a prepared folder (local) or an image (docker)."""

    backend: str
    code_dir: str | None = None
    env_dir: str | None = None
    command: tuple[str, ...] | None = None
    image: str | None = None
    digest: str | None = None
    warnings: tuple[str, ...] = ()
    build_id: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "backend": self.backend,
                "codeDir": self.code_dir,
                "envDir": self.env_dir,
                "command": list(self.command) if self.command else None,
                "image": self.image,
                "digest": self.digest,
                "warnings": list(self.warnings),
                "buildId": self.build_id,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Artifact:
        data = json.loads(text)
        command = data.get("command")
        return cls(
            backend=data["backend"],
            code_dir=data.get("codeDir"),
            env_dir=data.get("envDir"),
            command=tuple(command) if command else None,
            image=data.get("image"),
            digest=data.get("digest"),
            warnings=tuple(data.get("warnings") or ()),
            build_id=data.get("buildId"),
        )

    def prepared(self, name: str) -> PreparedAgent:
        """The artifact as an agent its backend's runner can start."""
        if self.image is not None:
            return PreparedAgent.from_image(name, self.image)
        assert self.code_dir is not None
        return PreparedAgent(
            name,
            Path(self.code_dir),
            Path(self.env_dir) if self.env_dir else None,
            self.command,
        )


class BuildBackend(Protocol):
    """Builds source folders into artifacts, and runs them for the validation match."""

    @property
    def name(self) -> str: ...

    def unavailable_reason(self) -> str | None:
        """Why the backend cannot build right now, or None when it can."""
        ...

    def build(self, target: BuildTarget, source: Path, log: BuildLog) -> Artifact:
        """Build ``source`` (which the backend may move); raise BuildFailure when it cannot."""
        ...

    def runner(self) -> Runner | MatchRunner:
        """The runner that plays this backend's artifacts (the validation match)."""
        ...

    def retire(self, target: BuildTarget, current: Artifact | None) -> None:
        """Retire the artifacts of ``target``'s submission made by earlier attempts than
        ``target`` (and ``target``'s own), except ``current``: each is removed as soon as
        nothing plays it. Later attempts' are left alone (another worker may be making one)."""
        ...
