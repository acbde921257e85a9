"""A referee that plays a tournament's queued matches by decree, through the real queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from botarena.db.engine import SessionFactory
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.matches.models import Match
from botarena.matches.queue import MatchQueue
from botarena.matches.recording import MatchRecorder
from botarena.ratings.hook import RatingsHook
from botarena.settings import Settings
from botarena.tournaments.director import TournamentDirector

from support.accounts import Account

ERROR = "error"
# Who wins a match: the seat (0 or 1), None for a draw, or ERROR when the platform fails it.
Decree = Callable[[Match], int | str | None]


def by_strength(strength: dict[str, int]) -> Decree:
    """The stronger submission wins; equal strengths draw."""

    def decide(match: Match) -> int | None:
        one, two = (strength[p.submission_id] for p in match.players)
        return None if one == two else (0 if one > two else 1)

    return decide


@dataclass
class Referee:
    client: TestClient
    factory: SessionFactory
    settings: Settings
    admin: Account

    def __post_init__(self) -> None:
        self.director = TournamentDirector(self.factory, self.settings)

    def start(self, **body: Any) -> dict[str, Any]:
        answer = self.client.post("/api/v1/tournaments", json=body, headers=self.admin.headers)
        assert answer.status_code == 201, answer.text
        started: dict[str, Any] = answer.json()
        return started

    def show(self, tournament_id: str) -> dict[str, Any]:
        answer = self.client.get(f"/api/v1/tournaments/{tournament_id}")
        assert answer.status_code == 200, answer.text
        shown: dict[str, Any] = answer.json()
        return shown

    def play_queued(self, decide: Decree) -> int:
        """Claim every queued match and record what ``decide`` says of it."""
        played = 0
        with self.factory() as session:
            queue = MatchQueue(session, self.settings)
            while (match := queue.claim_next("referee", "127.0.0.1:1")) is not None:
                verdict = decide(match)
                if verdict == ERROR:
                    queue.fail(match, "the platform could not play it")
                else:
                    assert verdict is None or isinstance(verdict, int)
                    scores = (
                        [0.5, 0.5] if verdict is None else [float(p == verdict) for p in (0, 1)]
                    )
                    result = MatchResult(
                        MatchStatus.FINISHED,
                        verdict,
                        scores,
                        [AgentOutcome(), AgentOutcome()],
                        9,
                        5,
                    )
                    MatchRecorder(session, self.settings, RatingsHook()).record(match, result)
                played += 1
            session.commit()
        return played

    def run(self, tournament_id: str, decide: Decree, passes: int = 100) -> dict[str, Any]:
        """Play the tournament to its end; its final state."""
        for _ in range(passes):
            self.director.tick()
            shown = self.show(tournament_id)
            if shown["status"] == "finished":
                return shown
            self.play_queued(decide)
        raise AssertionError(f"tournament {tournament_id} did not finish in {passes} passes")
