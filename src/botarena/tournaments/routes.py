"""HTTP routes of tournaments: admins start them, anyone follows them."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from botarena.accounts.deps import CurrentUser
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.games import GameFilter
from botarena.api.hooks import notify_match_queued
from botarena.api.pagination import PageDep
from botarena.api.schema import Page
from botarena.audit.deps import AuditContext
from botarena.tournaments.schemas import TournamentCreate, TournamentOut, TournamentSummary
from botarena.tournaments.service import TournamentService, TournamentSpec

router = APIRouter(tags=["tournaments"])


@router.post("/tournaments", status_code=status.HTTP_201_CREATED)
def create_tournament(
    body: TournamentCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    context: AuditContext,
) -> TournamentOut:
    """Start a tournament (admins): the entrants are frozen and the first round is queued."""
    service = TournamentService(session, settings)
    tournament, queued = service.create(
        user,
        TournamentSpec(
            game=body.game,
            format=body.format,
            rounds=body.rounds,
            games_per_pairing=body.games_per_pairing,
            submission_ids=body.submission_ids,
            seed=body.seed,
        ),
        context,
    )
    if queued:
        notify_match_queued(request)
    return TournamentOut.of_view(service.view(tournament.id))


@router.get("/tournaments")
def list_tournaments(
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    game: GameFilter,
) -> Page[TournamentSummary]:
    """Tournaments, newest first."""
    rows, total = TournamentService(session, settings).page(
        limit=page.limit, offset=page.offset, game=game
    )
    return Page(
        items=[TournamentSummary.of(t) for t in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/tournaments/{tournament_id}")
def get_tournament(tournament_id: str, session: SessionDep, settings: SettingsDep) -> TournamentOut:
    """Progress, standings with tie-breaks, every round's games, and the bracket."""
    return TournamentOut.of_view(TournamentService(session, settings).view(tournament_id))


@router.post("/tournaments/{tournament_id}/cancel")
def cancel_tournament(
    tournament_id: str,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContext,
) -> TournamentOut:
    """Stop a running tournament (admins): its unplayed matches are cancelled."""
    service = TournamentService(session, settings)
    service.cancel(user, tournament_id, context)
    return TournamentOut.of_view(service.view(tournament_id))
