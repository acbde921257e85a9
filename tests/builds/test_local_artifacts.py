"""What the ``local`` backend records is what an executor accepts: absolute paths without
links, even when the data folder is given relative (the default, ``./botarena-data``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from botarena.builds.backends.base import BuildTarget
from botarena.builds.backends.local import LocalBackend
from botarena.builds.log import BuildLog
from botarena.executor import wire
from botarena.executor.artifacts import ArtifactPolicy
from botarena.executor.sandbox import Limits
from botarena.executor.sandbox.limits import MIB
from botarena.settings import Settings

from support.services import require_sandbox

AGENT = "def agent(obs, conf):\n    return 0\n"


def test_a_relative_data_folder_gives_artifacts_an_executor_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_sandbox()
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "upload"
    source.mkdir()
    (source / "main.py").write_text(AGENT)
    (source / "requirements.txt").write_text("six\n")
    backend = LocalBackend(Path("data"), Limits(memory_bytes=256 * MIB, pids=64))
    try:
        artifact = backend.build(
            BuildTarget("sub-relative", "agt-relative", 1), source, BuildLog(tmp_path / "build.log")
        )
    finally:
        backend.close()
    assert artifact.code_dir is not None and artifact.env_dir is not None
    assert Path(artifact.code_dir).is_absolute() and Path(artifact.env_dir).is_absolute()

    settings = Settings(_env_file=None, data_dir=Path("data"))  # type: ignore[call-arg]
    spec = wire.agent_spec(artifact.prepared("agt-relative"), "sub-relative")
    agent = ArtifactPolicy.from_settings(settings).agent(spec)
    assert agent.code_dir == Path(artifact.code_dir)
    assert agent.env_dir == Path(artifact.env_dir)
