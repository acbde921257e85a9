"""Hands queued matches to executors over gRPC and records what comes back.

Each executor gets ``executor_capacity`` slots, each a thread that claims a match, sends it,
renews the match's lease on every heartbeat and records the result under that lease. A busy
slot keeps one more match claimed ahead (under its own lease, renewed with the playing one's)
and sends it before recording the result it just got, so the executor does not wait on the
database between matches. An
executor that dies or falls silent hands the match back to the queue; a monitor hands back
matches whose lease ran out (their dispatcher died with its process). A match cancelled while
it plays is stopped on its executor (see :mod:`.cancels`). Each match's log lines here and on
its executor carry the id of the request that created it.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import socket
import time
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from botarena.agents.models import Submission
from botarena.builds.backends.base import Artifact
from botarena.db.engine import SessionFactory
from botarena.events import EventBus, Subscription
from botarena.executor import wire
from botarena.executor.client import (
    ExecutorClient,
    ExecutorUnavailableError,
    MatchCall,
    MatchRefusedError,
)
from botarena.executor.credentials import Identity
from botarena.executor.outcomes import MatchResult
from botarena.executor.proto import executor_pb2 as pb
from botarena.matches.cancels import PlayingMatches
from botarena.matches.events import TOPIC_PREFIX
from botarena.matches.executors import ExecutorBoard
from botarena.matches.hooks import FinishedMatchHook
from botarena.matches.models import MatchPlayer
from botarena.matches.queue import MatchQueue, is_platform_error
from botarena.matches.recording import MatchRecorder
from botarena.settings import Settings
from botarena.workers import Workers

log = structlog.get_logger(__name__)

_IDLE_POLL_SECONDS = 0.5
_UNREACHABLE_WAIT_SECONDS = 1.0
# How often a busy slot asks its executor's health for the admin page (an idle slot asks
# before each claim).
_HEALTH_REFRESH_SECONDS = 5.0
# Seconds between the tries of recording a result (the database may be restarting).
_RECORD_RETRIES = (0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class _Claimed:
    """A match this slot holds the lease of, ready to send."""

    match_id: str
    spec: pb.MatchSpec
    request_id: str | None = None


@dataclass(frozen=True)
class _Sent:
    """A match handed to the executor, its events not read yet."""

    match_id: str
    call: MatchCall
    request_id: str | None = None


@dataclass(frozen=True)
class _Played:
    """How following a match ended: its result to record (None: handed back or lost),
    whether the executor failed (the claimed-ahead match is then not sent to it), and
    whether the claimed-ahead match's lease was lost meanwhile."""

    match_id: str
    result: MatchResult | None
    ahead_lost: bool
    executor_failed: bool = False


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
        bus: EventBus | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.executors = executors
        self.identity = identity
        self.finished = finished
        # A slot's name is its lease owner (64 characters at most): the executor's address,
        # which may be a long socket path, is kept in the match's ``executor`` instead.
        self.prefix = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"
        self._unreachable: set[str] = set()
        # What each executor last said, for the admin page (``embedded``: this process's own).
        self.board = ExecutorBoard(executors, embedded=embedded)
        # The matches playing here, stopped on their executor when the bus says cancelled.
        self.playing = PlayingMatches()
        self.bus = bus
        self._subscription: Subscription | None = None
        super().__init__()

    def start(self) -> None:
        if self.bus is not None:
            self._subscription = self.bus.subscribe(TOPIC_PREFIX, self.playing.heard, prefix=True)
        for index, address in enumerate(self.executors):
            for slot in range(self.settings.executor_capacity):
                worker = f"{self.prefix}:{index}:{slot}"
                self._spawn(
                    f"dispatch-{address}-{slot}", functools.partial(self._work, address, worker)
                )
        self._spawn("match-monitor", self._monitor)

    def stop(self, timeout: float = 10.0) -> None:
        if self._subscription is not None:
            self._subscription.close()
        super().stop(timeout)

    # -- one slot ------------------------------------------------------------------------
    def _work(self, address: str, worker: str) -> None:
        """The slot, started again should it fail outside a match (its leases run out and
        the monitor hands its matches back)."""
        while not self._stop.is_set():
            try:
                self._slot(address, worker)
            except Exception:
                log.exception("a dispatch slot failed; it starts again", worker=worker)
                self._stop.wait(1)

    def _slot(self, address: str, worker: str) -> None:
        """Play matches one after another on one executor slot, pipelined: while a match
        plays, the next one is claimed (its lease renewed with the playing one's); when a
        result comes, the next match is sent first, and the result is then recorded in the
        same transaction that claims the one after. A slot that dies leaves both leases to
        run out; a slot that stops gives the claimed-ahead match back uncounted."""
        client = ExecutorClient(address, self.identity)
        playing: _Sent | None = None
        ahead: _Claimed | None = None
        checked = 0.0  # when the executor last answered a health call
        try:
            while playing is not None or not self._stop.is_set():
                if playing is None:
                    if not self._reachable(client):
                        self._stop.wait(_UNREACHABLE_WAIT_SECONDS)
                        continue
                    checked = time.monotonic()
                    claimed = self._claim_now(worker, address)
                    if claimed is None:
                        continue
                    playing = self._send(client, worker, claimed)
                    if playing is None:
                        continue
                elif time.monotonic() - checked > _HEALTH_REFRESH_SECONDS:
                    # For the admin page only: a playing slot learns of failures from its call.
                    self._reachable(client)
                    checked = time.monotonic()
                if ahead is None and not self._stop.is_set():
                    ahead = self._claim_quietly(worker, address)
                played = self._play(client, worker, playing, ahead)
                if played.ahead_lost:
                    ahead = None
                playing = None
                if ahead is not None:
                    if played.executor_failed or self._stop.is_set():
                        self._give_back(worker, ahead.match_id, "its slot did not send it")
                    else:
                        playing = self._send(client, worker, ahead)
                    ahead = None
                if played.result is not None:
                    ahead = self._record(
                        worker, address, played.match_id, played.result, claim=playing is not None
                    )
        finally:
            if ahead is not None:
                self._give_back(worker, ahead.match_id, "its slot stopped")
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

    def _claim_now(self, worker: str, address: str) -> _Claimed | None:
        """The next match for an idle slot; None after waiting for work (or a failure)."""
        try:
            claimed = self._claim(worker, address)
        except Exception:
            log.exception("claiming a match failed", worker=worker)
            self._stop.wait(1)
            return None
        if claimed is None:
            self._idle(_IDLE_POLL_SECONDS)
        return claimed

    def _claim_quietly(self, worker: str, address: str) -> _Claimed | None:
        """The match after the playing one, or None (a failure here only costs the pipeline)."""
        try:
            return self._claim(worker, address)
        except Exception:
            log.exception("claiming the next match failed", worker=worker)
            return None

    def _claim(self, worker: str, address: str) -> _Claimed | None:
        with self.factory() as session:
            claimed = self._claim_in(session, worker, address)
            session.commit()
            return claimed

    def _claim_in(self, session: Session, worker: str, address: str) -> _Claimed | None:
        """Claim the next playable match in the caller's transaction (a match whose code is
        gone is ended ``error`` in it, and the next one tried)."""
        queue = MatchQueue(session, self.settings)
        while (match := queue.claim_next(worker, address)) is not None:
            # Its seats and their built code in one query (a submission gone since: None).
            seats = session.execute(
                select(MatchPlayer.agent_id, MatchPlayer.submission_id, Submission.artifact)
                .outerjoin(Submission, Submission.id == MatchPlayer.submission_id)
                .where(MatchPlayer.match_id == match.id)
                .order_by(MatchPlayer.player)
            ).all()
            agents = []
            for agent_id, submission_id, built in seats:
                if built is None:
                    # Rebuilt or removed since the match was made: it cannot be played.
                    queue.fail(match, f"submission {submission_id} has no built code now")
                    break
                artifact = Artifact.from_json(built)
                agent = artifact.prepared(agent_id)
                try:
                    seat = wire.agent_spec(agent, submission_id, image_digest=artifact.digest)
                except ValueError as exc:  # a recorded image whose digests disagree
                    queue.fail(match, f"submission {submission_id}: {exc}")
                    break
                agents.append(seat)
            else:
                spec = wire.match_spec(
                    match.id, match.game, json.loads(match.configuration), match.seed, agents
                )
                return _Claimed(match.id, spec, match.request_id)
        return None

    def _send(self, client: ExecutorClient, worker: str, claimed: _Claimed) -> _Sent | None:
        """Hand the match to the executor now (its events are read by :meth:`_play`); None,
        the match handed back, when the call cannot even be made."""
        silence = self.settings.match_lease_seconds
        try:
            call = client.run_match(
                claimed.spec, silence_timeout=silence, request_id=claimed.request_id
            )
        except Exception as exc:
            log.exception("sending a match failed", match_id=claimed.match_id)
            self._hand_back(worker, claimed.match_id, f"the dispatcher failed: {exc}")
            return None
        return _Sent(claimed.match_id, call, claimed.request_id)

    def _play(
        self, client: ExecutorClient, worker: str, sent: _Sent, ahead: _Claimed | None
    ) -> _Played:
        """Follow a sent match to its result; every log line of it (here and on the
        executor) carries the id of the request that created it."""
        ids = {"match_id": sent.match_id}
        if sent.request_id:
            ids["request_id"] = sent.request_id
        with structlog.contextvars.bound_contextvars(**ids):
            return self._follow(client, worker, sent, ahead)

    def _follow(
        self, client: ExecutorClient, worker: str, sent: _Sent, ahead: _Claimed | None
    ) -> _Played:
        """Renew the match's lease (and the claimed-ahead match's) at each heartbeat until
        its result; a failure hands the match back, a cancel stops it on its executor."""
        match_id = sent.match_id
        ahead_lost = False
        try:
            with self.playing.playing(match_id, sent.call):
                for event in sent.call.events():
                    if event.HasField("finished"):
                        return _Played(match_id, wire.match_result(event.finished), ahead_lost)
                    if event.HasField("heartbeat"):
                        held, ahead_held = self._renew_or_wait(worker, match_id, ahead)
                        ahead_lost = ahead_lost or not ahead_held
                        if not held:
                            # Cancelled (its lease released) or taken by another: stop it.
                            log.warning("lost the lease of a running match; stopping it")
                            return _Played(match_id, None, ahead_lost)
        except ExecutorUnavailableError as exc:
            if self.playing.cancelled(match_id):
                log.info("cancelled match stopped on its executor")
                return _Played(match_id, None, ahead_lost)
            self.board.failed(client.address, str(exc))
            self._hand_back(worker, match_id, str(exc))
            return _Played(match_id, None, ahead_lost, executor_failed=True)
        except MatchRefusedError as exc:
            self.board.failed(client.address, f"refused a match: {exc}")
            self._hand_back(worker, match_id, f"the executor refused it: {exc}")
        except Exception as exc:  # a bug of ours: the match is retried, never an agent's loss
            log.exception("dispatching a match failed", match_id=match_id)
            self._hand_back(worker, match_id, f"the dispatcher failed: {exc}")
            return _Played(match_id, None, ahead_lost, executor_failed=True)
        return _Played(match_id, None, ahead_lost)

    def _renew_or_wait(
        self, worker: str, match_id: str, ahead: _Claimed | None
    ) -> tuple[bool, bool]:
        """:meth:`_renew`, or, while the database does not answer (restarting), both taken as
        still held: the match plays on and the next heartbeat tries again. Should the outage
        outlast the lease, the monitor hands the match back and the next renewal says so."""
        try:
            return self._renew(worker, match_id, ahead)
        except Exception as exc:
            log.warning(
                "renewing a lease failed; trying again at the next heartbeat", error=str(exc)
            )
            return True, True

    def _renew(
        self, worker: str, match_id: str, ahead: _Claimed | None = None
    ) -> tuple[bool, bool]:
        """Extend the playing match's lease and the claimed-ahead one's, in one transaction;
        whether ``worker`` still holds each (no ahead: True)."""
        with self.factory() as session:
            queue = MatchQueue(session, self.settings)
            held = queue.renew(match_id, worker)
            ahead_held = ahead is None or queue.renew(ahead.match_id, worker)
            session.commit()
            return held, ahead_held

    def _record(
        self, worker: str, address: str, match_id: str, result: MatchResult, *, claim: bool
    ) -> _Claimed | None:
        """Record a result and, when ``claim``, claim the slot's next match ahead, in one
        transaction: one commit per match while the queue is full. A failure is tried again
        a few times (the database may be restarting: a played match is worth the wait), then
        hands the match back (nothing of the transaction is kept)."""
        for wait in (*_RECORD_RETRIES, None):
            try:
                with self.factory() as session:
                    self._finish_in(session, worker, match_id, result)
                    claimed = self._claim_in(session, worker, address) if claim else None
                    session.commit()
                    return claimed
            except Exception as exc:
                if wait is not None:
                    log.warning("recording a match failed; trying again", error=str(exc))
                    time.sleep(wait)
                    continue
                log.exception("recording a match failed", match_id=match_id)
                self._hand_back(worker, match_id, f"the dispatcher failed: {exc}")
        return None

    def _finish(self, worker: str, match_id: str, result: MatchResult) -> None:
        with self.factory() as session:
            self._finish_in(session, worker, match_id, result)
            session.commit()

    def _finish_in(self, session: Session, worker: str, match_id: str, result: MatchResult) -> None:
        queue = MatchQueue(session, self.settings)
        match = queue.held(match_id, worker)
        if match is None:
            log.warning("a result for a match not held; ignored", match_id=match_id)
            return
        if is_platform_error(result):
            queue.hand_back(match, result.error or "the executor could not play it")
        else:
            MatchRecorder(session, self.settings, self.finished).record(match, result)

    def _give_back(self, worker: str, match_id: str, why: str) -> None:
        """A claimed-ahead match that will not be sent: back to the queue, uncounted."""
        try:
            with self.factory() as session:
                queue = MatchQueue(session, self.settings)
                match = queue.held(match_id, worker)
                if match is not None:
                    queue.give_back(match, why)
                    session.commit()
        except Exception:  # its lease runs out and the monitor hands it back instead
            log.exception("giving back a match failed", match_id=match_id)
        self.wake()

    def _hand_back(self, worker: str, match_id: str, why: str) -> None:
        """Back to the queue (counted); when the database does not answer, its lease runs
        out and the monitor hands it back instead: a slot never dies of it."""
        try:
            with self.factory() as session:
                queue = MatchQueue(session, self.settings)
                match = queue.held(match_id, worker)
                if match is not None:
                    queue.hand_back(match, why)
                    session.commit()
        except Exception:
            log.exception("handing back a match failed", match_id=match_id)
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
