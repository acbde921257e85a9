"""Building a submission at once in tests, with a real backend, outside any server."""

from __future__ import annotations

from collections.abc import Callable

from botarena.builds.backends.base import BuildBackend
from botarena.builds.pipeline import BuildPipeline
from botarena.builds.queue import BuildQueue
from botarena.db.engine import SessionFactory
from botarena.settings import Settings

WORKER = "test-builder"

# ``built(account, name, files, activate=True)`` → (agent id, submission id), built for real.
Built = Callable[..., tuple[str, str]]


def build_now(
    factory: SessionFactory, settings: Settings, backend: BuildBackend, sub_id: str
) -> None:
    """Claim ``sub_id`` (it must be next in the queue) and run its whole build."""
    with factory() as session:
        claimed = BuildQueue(session).claim_next(WORKER, backend.name, 60)
        session.commit()
        assert claimed is not None, "nothing to build"
        assert claimed.id == sub_id, f"{claimed.id} was next in the queue, not {sub_id}"
    BuildPipeline(factory, settings, backend, worker=WORKER).run(sub_id)
