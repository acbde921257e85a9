"""The client of an executor service: hand it a match and follow the match's events.

Every call goes over mutual TLS with the dispatcher's certificate; the executor must show a
certificate of the platform's authority issued to an executor, whatever address it is
reached at (see :mod:`.credentials`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botarena.closing import Closing
from botarena.executor.credentials import EXECUTOR, Identity
from botarena.executor.grpc_service import HEALTH, RUN_MATCH
from botarena.executor.proto import executor_pb2 as pb
from botarena.executor.rpc import grpc
from botarena.executor.silence import SilenceWatch
from botarena.logging import REQUEST_ID_METADATA


class ExecutorUnavailableError(Exception):
    """The executor cannot be reached, or dropped the match before it finished."""


class MatchRefusedError(Exception):
    """The executor refused the match as given (an unknown game, a bad agent)."""


class ExecutorClient(Closing):
    """One channel to one executor at ``address`` (``host:port`` or ``unix:/path``)."""

    def __init__(self, address: str, identity: Identity) -> None:
        self.address = address
        credentials = grpc.ssl_channel_credentials(
            root_certificates=identity.ca_pem,
            private_key=identity.key_pem,
            certificate_chain=identity.cert_pem,
        )
        # The name checked in the executor's certificate: the authority is the platform's own
        # and signs executors only under this name, so the address may be anything.
        options = [("grpc.ssl_target_name_override", EXECUTOR)]
        self._channel = grpc.secure_channel(address, credentials, options=options)
        self._silence = SilenceWatch()
        self._run_match = self._channel.unary_stream(
            RUN_MATCH,
            request_serializer=pb.MatchSpec.SerializeToString,
            response_deserializer=pb.MatchEvent.FromString,
        )
        self._health = self._channel.unary_unary(
            HEALTH,
            request_serializer=pb.HealthRequest.SerializeToString,
            response_deserializer=pb.HealthReply.FromString,
        )

    def health(self, timeout: float = 5.0) -> pb.HealthReply:
        try:
            reply: pb.HealthReply = self._health(pb.HealthRequest(), timeout=timeout)
        except grpc.RpcError as exc:
            raise ExecutorUnavailableError(_describe(self.address, exc)) from exc
        return reply

    def run_match(
        self,
        spec: pb.MatchSpec,
        *,
        silence_timeout: float = 30.0,
        request_id: str | None = None,
    ) -> MatchCall:
        """Hand the match over now (the request is on its way when this returns) and follow
        it with the returned call (iterate it, or :meth:`MatchCall.events`): a dispatcher
        sends the next match before it records the last one. ``request_id``, the request that
        made the match, goes along as metadata for the executor's logs."""
        metadata = ((REQUEST_ID_METADATA, request_id),) if request_id else None
        call = self._run_match(spec, wait_for_ready=False, metadata=metadata)
        return MatchCall(self.address, call, silence_timeout, self._silence)

    def close(self) -> None:
        self._silence.close()
        self._channel.close()


class MatchCall:
    """One match handed to an executor, its events still to be read; :meth:`cancel` (from
    any thread) stops it there."""

    def __init__(
        self, address: str, call: Any, silence_timeout: float, watch: SilenceWatch
    ) -> None:
        self.address = address
        self._call = call
        self._silence_timeout = silence_timeout
        self._watch = watch
        self._following: Iterator[pb.MatchEvent] | None = None

    def __iter__(self) -> Iterator[pb.MatchEvent]:
        return self

    def __next__(self) -> pb.MatchEvent:
        if self._following is None:
            self._following = self.events()
        return next(self._following)

    def events(self) -> Iterator[pb.MatchEvent]:
        """The match's events as they come, up to its result; raises
        ExecutorUnavailableError when the executor goes away or stays silent, and
        MatchRefusedError when it refuses the match. The call ends with the iteration."""
        call = self._call
        events = iter(call)
        try:
            while True:
                try:
                    event: pb.MatchEvent = self._next_within(events)
                except StopIteration:
                    raise ExecutorUnavailableError(
                        f"the executor at {self.address} ended the match without a result"
                    ) from None
                yield event
                if event.HasField("finished"):
                    return
        except grpc.RpcError as exc:
            if isinstance(exc, grpc.Call) and exc.code() in _REFUSALS:
                raise MatchRefusedError(str(exc.details())) from exc
            raise ExecutorUnavailableError(_describe(self.address, exc)) from exc
        finally:
            call.cancel()

    def cancel(self) -> None:
        """End the call: the executor stops the match and kills its agents' processes."""
        self._call.cancel()

    def _next_within(self, events: Iterator[pb.MatchEvent]) -> pb.MatchEvent:
        """The next event, or the call cancelled after the silence timeout."""
        self._watch.arm(self, self._silence_timeout, self._call.cancel)
        try:
            return next(events)
        finally:
            self._watch.disarm(self)


_REFUSALS = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED)


def _describe(address: str, error: grpc.RpcError) -> str:
    code = error.code() if isinstance(error, grpc.Call) else None
    details = error.details() if isinstance(error, grpc.Call) else str(error)
    if code == grpc.StatusCode.CANCELLED:
        return f"the executor at {address} went silent (no heartbeat)"
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return f"the executor at {address} refused this server's certificate: {details}"
    return f"the executor at {address} is unavailable: {details}"
