"""Request and response bodies of the matches API."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator

from botarena.api.schema import JSON_NUMBER, ApiModel
from botarena.executor.match_document import MAX_SEATS
from botarena.matches.models import Match, seat_places
from botarena.matches.reruns import RerunPlan, RerunSeat


class MatchCreate(ApiModel):
    """A match to play: two agents (``agent1Id``, ``agent2Id``) or, for a game of more
    players, ``agentIds`` (by seat, 2 up to the game's most), and optionally the game, the
    seed and config overrides."""

    # The description says what the rules refuse: both ways of naming the agents, or neither.
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["agent1Id", "agent2Id"],
                    "properties": {
                        "agent1Id": {"type": "string"},
                        "agent2Id": {"type": "string"},
                        "agentIds": {"type": "null"},
                    },
                },
                {
                    "required": ["agentIds"],
                    "properties": {
                        "agentIds": {"type": "array"},
                        "agent1Id": {"type": "null"},
                        "agent2Id": {"type": "null"},
                    },
                },
            ]
        }
    )

    agent1_id: str | None = Field(default=None, min_length=1, max_length=32)
    agent2_id: str | None = Field(default=None, min_length=1, max_length=32)
    agent_ids: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, min_length=2, max_length=MAX_SEATS
    )
    game: str | None = Field(default=None, min_length=1, max_length=64)
    seed: Annotated[int, Field(ge=0, le=2**31 - 1), JSON_NUMBER] | None = None
    config: dict[str, Any] | None = None
    ranked: bool = False  # admins only: a match that changes ratings

    @model_validator(mode="after")
    def _one_way_of_naming_agents(self) -> MatchCreate:
        pair = (self.agent1_id, self.agent2_id)
        if self.agent_ids is not None and any(pair):
            raise ValueError("give either agentIds or agent1Id and agent2Id, not both")
        if self.agent_ids is None and not all(pair):
            raise ValueError("agent1Id and agent2Id are required (or agentIds)")
        return self

    def seats(self) -> tuple[str, ...]:
        """The agents by seat, however they were given."""
        if self.agent_ids is not None:
            return tuple(self.agent_ids)
        return (str(self.agent1_id), str(self.agent2_id))


class MatchAgentOut(ApiModel):
    agent_id: str
    submission_id: str
    player: int
    outcome: str | None
    reason: str | None
    #: Its place once the match finished (1 the best, equal for a tie); None before.
    rank: int | None = None


class MatchStatusChange(ApiModel):
    status: str
    at: datetime


class MatchOut(ApiModel):
    """A match: who plays, where it stands, and how it ended."""

    id: str
    game: str
    competition_id: str | None
    status: str
    ranked: bool
    agents: list[MatchAgentOut]
    winner: int | None
    scores: list[float] | None
    queue_position: int | None
    attempts: int
    status_history: list[MatchStatusChange]
    duration_ms: int | None
    created_at: datetime

    @classmethod
    def of(cls, match: Match, queue_position: int | None = None) -> MatchOut:
        places = seat_places(match)
        return cls(
            id=match.id,
            game=match.game,
            competition_id=match.competition_id,
            status=match.status,
            ranked=match.ranked,
            agents=[
                MatchAgentOut(
                    agent_id=p.agent_id,
                    submission_id=p.submission_id,
                    player=p.player,
                    outcome=p.outcome,
                    reason=p.reason,
                    rank=places[index] if places else None,
                )
                for index, p in enumerate(match.players)
            ],
            winner=match.winner,
            scores=json.loads(match.scores) if match.scores else None,
            queue_position=queue_position,
            attempts=match.attempts,
            status_history=[
                MatchStatusChange(status=e.status, at=e.at) for e in match.status_events
            ],
            duration_ms=match.duration_ms,
            created_at=match.created_at,
        )


class RerunSeatOut(ApiModel):
    """One seat of a match to re-run: its code and where to download it."""

    player: int
    agent_id: str
    agent_name: str
    submission_id: str
    version: int
    outcome: str | None
    # "archive": the uploaded archive, as stored (its SHA-256 below); "git": the repository
    # at the commit its build pinned, packed by the server as a .tar.gz.
    source_kind: str
    archive_sha256: str | None
    archive_format: str | None
    code_url: str | None
    commit_sha: str | None
    source_path: str  # under /api/v1
    # What the server's build made, for reference (a folder or image of the server's).
    build_backend: str | None
    image: str | None


class RerunOut(ApiModel):
    """What re-running a finished match takes: the seed, the game and its configuration
    overrides, the recorded result, each seat's code; the replay is at ``replayPath``."""

    match_id: str
    game: str
    seed: int
    configuration: dict[str, Any]
    winner: int | None
    scores: list[float] | None
    turns: int | None
    replay_path: str  # under /api/v1
    players: list[RerunSeatOut]

    @classmethod
    def of(cls, plan: RerunPlan) -> RerunOut:
        match = plan.match
        return cls(
            match_id=match.id,
            game=match.game,
            seed=match.seed,
            configuration=plan.configuration,
            winner=match.winner,
            scores=json.loads(match.scores) if match.scores else None,
            turns=match.turns,
            replay_path=f"/matches/{match.id}/replay",
            players=[_seat_out(seat) for seat in plan.seats],
        )


def _seat_out(seat: RerunSeat) -> RerunSeatOut:
    submission = seat.submission
    artifact = json.loads(submission.artifact) if submission.artifact else {}
    return RerunSeatOut(
        player=seat.seat.player,
        agent_id=submission.agent_id,
        agent_name=submission.agent.name,
        submission_id=submission.id,
        version=submission.version,
        outcome=seat.seat.outcome,
        source_kind="archive" if submission.archive_sha256 else "git",
        archive_sha256=submission.archive_sha256,
        archive_format=submission.archive_format,
        code_url=submission.code_url,
        commit_sha=submission.commit_sha,
        source_path=f"/submissions/{submission.id}/source",
        build_backend=artifact.get("backend") or submission.build_backend,
        image=artifact.get("image"),
    )
