"""HTTP routes of a competition's leaderboard, final selections and final evaluation."""

from __future__ import annotations

from fastapi import APIRouter, Request

from botarena.accounts.deps import CurrentUser
from botarena.agents.selection import SelectionService, TeamSelection
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.hooks import notify_match_queued
from botarena.audit.deps import AuditContext
from botarena.competitions.presenters import present
from botarena.competitions.schemas import CompetitionOut
from botarena.finals.schemas import (
    CompetitionBoard,
    FinalStart,
    SelectionIn,
    SelectionOut,
)
from botarena.finals.service import Board, FinalsService
from botarena.ratings.schemas import LeaderboardRow

router = APIRouter(tags=["competitions"])


@router.get("/competitions/{ref}/leaderboard")
def competition_leaderboard(
    ref: str, session: SessionDep, settings: SettingsDep
) -> CompetitionBoard:
    """The competition's leaderboard: the frozen final standings once frozen, the final
    evaluation's own ratings while it plays, else the ladder's."""
    return _board(FinalsService(session, settings).board(ref))


@router.get("/competitions/{ref}/selection")
def get_selection(
    ref: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SelectionOut:
    """The caller's team's submissions for the final: chosen, and what plays."""
    competition = FinalsService(session, settings).competition(ref)
    return _selection(competition.id, SelectionService(session).of(user, competition))


@router.put("/competitions/{ref}/selection")
def put_selection(
    ref: str, body: SelectionIn, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SelectionOut:
    """Choose the caller's team's submissions for the final (at most the competition's
    ``finalSubmissionsPerTeam``; none: its newest active ones play)."""
    competition = FinalsService(session, settings).competition(ref)
    chosen = SelectionService(session).choose(user, competition, body.submission_ids)
    return _selection(competition.id, chosen)


@router.post("/competitions/{ref}/final-evaluation")
def start_final(
    ref: str,
    body: FinalStart,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContext,
    request: Request,
) -> CompetitionOut:
    """Start the final evaluation (admins, after the deadline)."""
    competition = FinalsService(session, settings).start(user, ref, body.rounds, context)
    notify_match_queued(request)
    return present(competition, False)


@router.post("/competitions/{ref}/freeze")
def freeze(
    ref: str, user: CurrentUser, session: SessionDep, settings: SettingsDep, context: AuditContext
) -> CompetitionOut:
    """Freeze the competition now (admins): standings stored, no more matches."""
    return present(FinalsService(session, settings).freeze(user, ref, context), False)


def _selection(competition_id: str, selection: TeamSelection) -> SelectionOut:
    return SelectionOut(
        competition_id=competition_id,
        team_id=selection.team_id,
        submission_ids=selection.chosen,
        effective_submission_ids=selection.effective,
    )


def _board(board: Board) -> CompetitionBoard:
    return CompetitionBoard(
        competition_id=board.competition.id,
        game=board.competition.game,
        phase=board.phase.value,
        final=board.final,
        frozen=board.stored,
        items=[
            LeaderboardRow(
                rank=r.rank,
                agent_id=r.agent_id,
                agent_name=r.agent_name,
                owner_id=r.owner_id,
                team_id=r.team_id,
                team_name=r.team_name,
                submission_id=r.submission_id,
                version=r.version,
                mu=r.mu,
                sigma=r.sigma,
                score=r.score,
                games=r.games,
                wins=r.wins,
                losses=r.losses,
                draws=r.draws,
                last_match_at=r.last_match_at,
            )
            for r in board.rows
        ],
    )
