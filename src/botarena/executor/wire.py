"""Between the engine's own types and the executor service's messages (executor.proto)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from botarena.executor.outcomes import AgentOutcome, AgentStatus, MatchResult, MatchStatus
from botarena.executor.prepare import PreparedAgent
from botarena.executor.proto import executor_pb2 as pb

NO_WINNER = -1


def agent_spec(
    agent: PreparedAgent, submission_id: str = "", *, image_digest: str | None = None
) -> pb.AgentSpec:
    """The artifact of ``agent`` as the executor is asked to run it: its folders, or its
    image and digest. Never its command: the executor reads that from the artifact.

    An image named by its digest (``repository:tag@sha256:…``, as the ``kubernetes`` backend
    records it) is sent as the repository and tag with that digest apart, the form the
    executor checks."""
    image = agent.image or ""
    if "@" in image:
        image, _, pinned = image.partition("@")
        if image_digest and image_digest != pinned:
            raise ValueError(f"{agent.image} does not have the digest {image_digest}")
        image_digest = pinned
    return pb.AgentSpec(
        name=agent.name,
        submission_id=submission_id,
        code_dir="" if agent.image else str(agent.code_dir),
        env_dir=str(agent.env_dir) if agent.env_dir else "",
        image=image,
        image_digest=image_digest or "",
    )


def match_spec(
    match_id: str,
    game: str,
    configuration: dict[str, Any],
    seed: int,
    agents: Sequence[pb.AgentSpec],
) -> pb.MatchSpec:
    return pb.MatchSpec(
        match_id=match_id,
        game=game,
        configuration_json=json.dumps(configuration),
        seed=seed,
        agents=list(agents),
    )


def finished(result: MatchResult) -> pb.Finished:
    return pb.Finished(
        status=result.status.value,
        winner=NO_WINNER if result.winner is None else result.winner,
        scores=result.scores,
        agents=[
            pb.AgentOutcome(status=a.status.value, reason=a.reason or "", log=a.log)
            for a in result.agents
        ],
        turns=result.turns,
        duration_ms=result.duration_ms,
        replay_json=json.dumps(result.replay),
        error=result.error or "",
    )


def match_result(message: pb.Finished) -> MatchResult:
    """The result an executor reported. Its replay must parse as JSON (else this raises); the
    text itself is kept, to be stored as received."""
    replay = json.loads(message.replay_json) if message.replay_json else {}
    return MatchResult(
        status=MatchStatus(message.status),
        winner=None if message.winner == NO_WINNER else message.winner,
        scores=list(message.scores),
        agents=[
            AgentOutcome(AgentStatus(a.status), a.reason or None, a.log) for a in message.agents
        ],
        turns=message.turns,
        duration_ms=message.duration_ms,
        replay=replay,
        error=message.error or None,
        replay_json=message.replay_json or None,
    )
