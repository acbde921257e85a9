"""The submissions a team puts forward for a competition's final: chosen by its members, at
most ``final_submissions_per_team`` of its built ones; a team that chose none is represented
by its newest active submissions (up to the same number). After the deadline the ladder plays
only these, and the final evaluation meets every one with every other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.agents.models import Agent, Submission
from botarena.agents.status import SubmissionStatus
from botarena.clock import utcnow
from botarena.competitions.models import Competition, FinalSelection
from botarena.competitions.phases import Phase, phase_of
from botarena.errors import bad_request, forbidden, invalid, not_found
from botarena.teams.repository import TeamRepository

# Built submissions that can play: what a team may choose.
SELECTABLE = (
    SubmissionStatus.SUCCESS.value,
    SubmissionStatus.ACTIVE.value,
    SubmissionStatus.INACTIVE.value,
)


@dataclass(frozen=True)
class TeamSelection:
    """A team's choice, and what stands for it (the choice, or the default when none)."""

    team_id: str
    chosen: list[str]
    effective: list[str]


def selected_submissions(session: Session, competition: Competition) -> list[str]:
    """Every team's effective selection in the competition (submission ids, stable order)."""
    chosen: dict[str, list[str]] = {}
    for team_id, submission_id in session.execute(
        select(FinalSelection.team_id, FinalSelection.submission_id)
        .join(Submission, Submission.id == FinalSelection.submission_id)
        .where(
            FinalSelection.competition_id == competition.id,
            Submission.status.in_(SELECTABLE),
        )
        .order_by(FinalSelection.submission_id)
    ):
        chosen.setdefault(team_id, []).append(submission_id)
    newest: dict[str, list[str]] = {}
    for team_id, submission_id in session.execute(
        select(Agent.team_id, Submission.id)
        .join(Agent, Agent.id == Submission.agent_id)
        .where(
            Agent.competition_id == competition.id,
            Submission.status == SubmissionStatus.ACTIVE.value,
        )
        .order_by(Submission.created_at.desc(), Submission.id)
    ):
        if team_id is not None and team_id not in chosen:
            picks = newest.setdefault(team_id, [])
            if len(picks) < competition.final_submissions_per_team:
                picks.append(submission_id)
    every = [s for picks in chosen.values() for s in picks]
    every += [s for picks in newest.values() for s in picks]
    return sorted(every)


class SelectionService:
    """A team's members choose its submissions for the final."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def of(self, user: User, competition: Competition) -> TeamSelection:
        """The caller's team's selection; 404 when they are not in the competition."""
        team = TeamRepository(self.session).of_user(competition.id, user.id)
        if team is None:
            raise not_found(f"You are not in competition {competition.title}")
        chosen = list(
            self.session.scalars(
                select(FinalSelection.submission_id)
                .where(
                    FinalSelection.competition_id == competition.id,
                    FinalSelection.team_id == team.id,
                )
                .order_by(FinalSelection.submission_id)
            )
        )
        everyone = set(selected_submissions(self.session, competition))
        mine = set(
            self.session.scalars(
                select(Submission.id)
                .join(Agent, Agent.id == Submission.agent_id)
                .where(Agent.team_id == team.id)
            )
        )
        return TeamSelection(team.id, chosen, sorted(everyone & mine))

    def choose(
        self, user: User, competition: Competition, submission_ids: Sequence[str]
    ) -> TeamSelection:
        """Replace the caller's team's selection (an empty list: back to the default), until
        the final evaluation starts."""
        if competition.is_default:
            raise bad_request("A game's default competition has no final")
        phase = phase_of(competition)
        if phase not in (Phase.OPEN, Phase.CLOSED):
            raise bad_request(
                f"Competition {competition.title} is {phase.value}: the selection for the "
                "final can no longer change"
                if phase != Phase.UPCOMING
                else f"Competition {competition.title} has not opened yet"
            )
        team = TeamRepository(self.session).of_user(competition.id, user.id)
        if team is None:
            raise forbidden(f"Join competition {competition.title} first")
        wanted = list(dict.fromkeys(submission_ids))
        most = competition.final_submissions_per_team
        if len(wanted) > most:
            raise invalid("submissionIds", f"A team selects at most {most} submissions")
        for submission_id in wanted:
            submission = self.session.get(Submission, submission_id)
            if submission is None or submission.agent.team_id != team.id:
                raise invalid("submissionIds", f"Submission {submission_id} is not your team's")
            if submission.agent.competition_id != competition.id:
                raise invalid(
                    "submissionIds", f"Submission {submission_id} is of another competition"
                )
            if submission.status not in SELECTABLE:
                raise invalid(
                    "submissionIds",
                    f"Submission {submission_id} cannot play (status: {submission.status})",
                )
        self.session.execute(
            delete(FinalSelection).where(
                FinalSelection.competition_id == competition.id,
                FinalSelection.team_id == team.id,
            )
        )
        at = utcnow()
        for submission_id in wanted:
            self.session.add(
                FinalSelection(
                    competition_id=competition.id,
                    submission_id=submission_id,
                    team_id=team.id,
                    selected_at=at,
                )
            )
        self.session.commit()
        return self.of(user, competition)
