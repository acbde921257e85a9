"""What a fork server is kept for: an artifact's identity, never a path that could be replaced.

A zygote binds the agent's folder and environment when it starts; if a folder at the same path
were replaced, the zygote would still see the old one (or nothing, once it was deleted). So the
pool's key is each folder's path with its device and inode, taken when an agent starts, and a
zygote whose folders no longer match their key is retired instead of reused. A folder made
again at the same path cannot take the old one's inode while a zygote lives: the zygote's
bind mount keeps the old inode in use. What is inside a folder is not part of the key:
artifacts are never changed (a test may add a file; that is no new artifact).
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path

from botarena.executor.prepare import PreparedAgent


@dataclass(frozen=True)
class FolderIdentity:
    """One folder as it is now: replaced or removed, it no longer matches."""

    path: str
    device: int
    inode: int

    @classmethod
    def of(cls, folder: Path) -> FolderIdentity:
        info = os.stat(folder)
        return cls(str(folder), info.st_dev, info.st_ino)

    def matches(self) -> bool:
        try:
            return FolderIdentity.of(Path(self.path)) == self
        except OSError:
            return False


@dataclass(frozen=True)
class ArtifactKey:
    """The identity of a prepared agent's artifact: its folders and what it runs."""

    code: FolderIdentity
    env: FolderIdentity | None
    command: tuple[str, ...] | None

    @classmethod
    def of(cls, agent: PreparedAgent) -> ArtifactKey:
        """Raises OSError when a folder is missing."""
        env = FolderIdentity.of(agent.env_dir) if agent.env_dir is not None else None
        return cls(FolderIdentity.of(agent.code_dir), env, agent.command)

    def matches(self) -> bool:
        return self.code.matches() and (self.env is None or self.env.matches())


def still_current(key: Hashable) -> bool:
    """For the pool: an artifact key whose folders are unchanged (other keys always are)."""
    return key.matches() if isinstance(key, ArtifactKey) else True
