"""Hands queued matches to executors over gRPC and records what comes back.

Each executor gets ``executor_capacity`` slots, each a thread that claims a match, sends it,
renews the match's lease on every heartbeat and records the result under that lease. An
executor that dies or falls silent hands the match back to the queue; a monitor hands back
matches whose lease ran out (their dispatcher died with its process).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import socket

import structlog

from botarena.agents.models import Submission
from botarena.builds.backends.base import Artifact
from botarena.db.engine import SessionFactory
from botarena.executor import wire
from botarena.executor.client import ExecutorClient, ExecutorUnavailableError, MatchRefusedError
from botarena.executor.credentials import Identity
from botarena.executor.outcomes import MatchResult
from botarena.executor.proto import executor_pb2 as pb
from botarena.matches.executors import ExecutorBoard
from botarena.matches.hooks import FinishedMatchHook
from botarena.matches.queue import MatchQueue, is_platform_error
from botarena.matches.recording import MatchRecorder
from botarena.settings import Settings
from botarena.workers import Workers

log = structlog.get_logger(__name__)

_IDLE_POLL_SECONDS = 0.5
_UNREACHABLE_WAIT_SECONDS = 1.0


def lease_owner_name(prefix: str, address: str, slot: int) -> str:
    """A dispatch slot's name as a lease owner: at most 64 characters (the column's width,
    which PostgreSQL enforces), whatever the host name or the executor's address (an
    embedded executor's is a socket path in the data folder)."""
    name = f"{prefix}:{address}:{slot}"
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{name[:40]}~{digest}:{slot}"


class MatchDispatcher(Workers):
    """Runs the dispatch slots and the lease monitor on threads until stopped."""

    def __init__(
        self,
        factory: SessionFactory,
        settings: Settings,
        executors: list[str],
        identity: Identity,
        finished: FinishedMatchHook,
        *,
        embedded: str | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.executors = executors
        self.identity = identity
        self.finished = finished
        self.prefix = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._unreachable: set[str] = set()
        # What each executor last said, for the admin page (``embedded``: this process's own).
        self.board = ExecutorBoard(executors, embedded=embedded)
        super().__init__()

    def start(self) -> None:
        for address in self.executors:
            for slot in range(self.settings.executor_capacity):
                worker = lease_owner_name(self.prefix, address, slot)
                self._spawn(
                    f"dispatch-{address}-{slot}", functools.partial(self._work, address, worker)
                )
        self._spawn("match-monitor", self._monitor)

    # -- one slot ------------------------------------------------------------------------
    def _work(self, address: str, worker: str) -> None:
        client = ExecutorClient(address, self.identity)
        try:
            while not self._stop.is_set():
                if not self._reachable(client):
                    self._stop.wait(_UNREACHABLE_WAIT_SECONDS)
                    continue
                try:
                    claimed = self._claim(worker, address)
                except Exception:
                    log.exception("claiming a match failed", worker=worker)
                    self._stop.wait(1)
                    continue
                if claimed is None:
                    self._idle(_IDLE_POLL_SECONDS)
                    continue
                self._play(client, worker, *claimed)
        finally:
            client.close()

    def _reachable(self, client: ExecutorClient) -> bool:
        """Only an executor that answers gets matches: a dead one must not use them up."""
        try:
            reply = client.health(timeout=2)
        except ExecutorUnavailableError as exc:
            self.board.unreachable(client.address, str(exc))
            if client.address not in self._unreachable:
                log.warning("executor unreachable; its matches wait", reason=str(exc))
                self._unreachable.add(client.address)
            return False
        self.board.answered(
            client.address,
            isolation=reply.isolation,
            running=reply.running,
            capacity=reply.capacity,
        )
        if client.address in self._unreachable:
            log.info("executor reachable again", address=client.address)
            self._unreachable.discard(client.address)
        return True

    def _claim(self, worker: str, address: str) -> tuple[str, pb.MatchSpec] | None:
        with self.factory() as session:
            queue = MatchQueue(session, self.settings)
            match = queue.claim_next(worker, address)
            if match is None:
                return None
            agents = []
            for seat in match.players:
                submission = session.get(Submission, seat.submission_id)
                if submission is None or submission.artifact is None:
                    # Rebuilt or removed since the match was made: it cannot be played.
                    queue.fail(match, f"submission {seat.submission_id} has no built code now")
                    session.commit()
                    return None
                artifact = Artifact.from_json(submission.artifact)
                agent = artifact.prepared(seat.agent_id)
                agents.append(wire.agent_spec(agent, submission.id, image_digest=artifact.digest))
            spec = wire.match_spec(
                match.id, match.game, json.loads(match.configuration), match.seed, agents
            )
            session.commit()
            return match.id, spec

    def _play(self, client: ExecutorClient, worker: str, match_id: str, spec: pb.MatchSpec) -> None:
        silence = self.settings.match_lease_seconds
        try:
            for event in client.run_match(spec, silence_timeout=silence):
                if event.HasField("finished"):
                    self._finish(worker, match_id, wire.match_result(event.finished))
                elif event.HasField("heartbeat") and not self._renew(worker, match_id):
                    log.warning("lost the lease of a running match", match_id=match_id)
                    return
        except ExecutorUnavailableError as exc:
            self.board.failed(client.address, str(exc))
            self._hand_back(worker, match_id, str(exc))
        except MatchRefusedError as exc:
            self.board.failed(client.address, f"refused a match: {exc}")
            self._hand_back(worker, match_id, f"the executor refused it: {exc}")
        except Exception as exc:  # a bug of ours: the match is retried, never an agent's loss
            log.exception("dispatching a match failed", match_id=match_id)
            self._hand_back(worker, match_id, f"the dispatcher failed: {exc}")

    def _renew(self, worker: str, match_id: str) -> bool:
        with self.factory() as session:
            held = MatchQueue(session, self.settings).renew(match_id, worker)
            session.commit()
            return held

    def _finish(self, worker: str, match_id: str, result: MatchResult) -> None:
        with self.factory() as session:
            queue = MatchQueue(session, self.settings)
            match = queue.held(match_id, worker)
            if match is None:
                log.warning("a result for a match not held; ignored", match_id=match_id)
                return
            if is_platform_error(result):
                queue.hand_back(match, result.error or "the executor could not play it")
            else:
                MatchRecorder(session, self.settings, self.finished).record(match, result)
            session.commit()

    def _hand_back(self, worker: str, match_id: str, why: str) -> None:
        with self.factory() as session:
            queue = MatchQueue(session, self.settings)
            match = queue.held(match_id, worker)
            if match is not None:
                queue.hand_back(match, why)
                session.commit()
        self.wake()

    # -- the monitor ---------------------------------------------------------------------
    def _monitor(self) -> None:
        while not self._stop.wait(max(self.settings.match_lease_seconds / 3, 0.5)):
            try:
                self.reconcile()
            except Exception:
                log.exception("the match monitor pass failed")

    def reconcile(self) -> int:
        """Hand back every running match whose lease ran out."""
        with self.factory() as session:
            queue = MatchQueue(session, self.settings)
            expired = list(queue.expired())
            for match in expired:
                queue.hand_back(match, "its executor stopped answering (the lease ran out)")
            session.commit()
        if expired:
            self.wake()
        return len(expired)
