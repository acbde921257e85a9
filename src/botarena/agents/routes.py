"""HTTP routes of agents and submissions; each one hands over to the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from botarena.accounts.deps import CurrentUser, OptionalUser
from botarena.agents.presenters import present
from botarena.agents.schemas import (
    AgentCreate,
    AgentDetail,
    AgentOut,
    SubmissionCreate,
    SubmissionCreated,
    SubmissionOut,
)
from botarena.agents.service import AgentService, SubmissionService
from botarena.agents.status import SubmissionStatus
from botarena.api.deps import SessionDep, SettingsDep
from botarena.api.games import GameFilter
from botarena.api.hooks import notify_build_queued
from botarena.api.openapi import error_answers
from botarena.api.pagination import PageDep
from botarena.api.schema import Page

router = APIRouter(tags=["agents"])


@router.post("/agents", status_code=status.HTTP_201_CREATED)
def create_agent(body: AgentCreate, user: CurrentUser, session: SessionDep) -> AgentOut:
    """Register a new agent for a game, in a competition (else the game's default one)."""
    agent = AgentService(session).create(user, body.name, body.game, body.competition_id)
    return AgentOut.model_validate(agent)


@router.get("/agents")
def list_agents(
    session: SessionDep,
    _viewer: OptionalUser,
    page: PageDep,
    game: GameFilter,
    name: Annotated[str | None, Query(max_length=64)] = None,
    owner_id: Annotated[str | None, Query(alias="ownerId", max_length=32)] = None,
) -> Page[AgentOut]:
    """Every agent, oldest first; filter by exact name, game or owner."""
    agents, total = AgentService(session).page(
        limit=page.limit, offset=page.offset, name=name, game=game, owner_id=owner_id
    )
    return Page[AgentOut](
        items=[AgentOut.model_validate(a) for a in agents],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/agents/{agent_id}")
def get_agent(agent_id: str, session: SessionDep, viewer: OptionalUser) -> AgentDetail:
    """One agent with its submissions."""
    agent = AgentService(session).get(agent_id)
    submissions = [present(s, viewer) for s in agent.submissions]
    active = next((s.id for s in submissions if s.status == SubmissionStatus.ACTIVE), None)
    return AgentDetail(
        **AgentOut.model_validate(agent).model_dump(),
        active_submission_id=active,
        submissions=submissions,
    )


@router.post("/submissions", status_code=status.HTTP_201_CREATED)
def create_submission(
    body: SubmissionCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> SubmissionCreated:
    """Submit code from a Git repository; it is queued for building."""
    submission = SubmissionService(session, settings).create_from_url(
        user, body.agent_id, body.code_url, body.ref
    )
    notify_build_queued(request)
    return SubmissionCreated(submission=SubmissionOut.model_validate(submission))


@router.post("/agents/{agent_id}/submissions", status_code=status.HTTP_201_CREATED)
def upload_submission(
    agent_id: str,
    archive: Annotated[UploadFile, File(description="The code as a .zip or .tar.gz")],
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> SubmissionCreated:
    """Submit code as an uploaded archive; it is checked, stored and queued for building."""
    submission = SubmissionService(session, settings).create_from_archive(
        user, agent_id, archive.file, archive.filename
    )
    notify_build_queued(request)
    return SubmissionCreated(submission=SubmissionOut.model_validate(submission))


@router.get("/submissions")
def list_submissions(
    session: SessionDep,
    settings: SettingsDep,
    viewer: OptionalUser,
    page: PageDep,
    status_filter: Annotated[SubmissionStatus | None, Query(alias="status")] = None,
    agent_id: Annotated[str | None, Query(alias="agentId", max_length=64)] = None,
) -> Page[SubmissionOut]:
    """Submissions, oldest first; filter by status and agent."""
    items, total = SubmissionService(session, settings).page(
        limit=page.limit, offset=page.offset, status=status_filter, agent_id=agent_id
    )
    return Page[SubmissionOut](
        items=[present(s, viewer) for s in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/submissions/{submission_id}")
def get_submission(
    submission_id: str, session: SessionDep, settings: SettingsDep, viewer: OptionalUser
) -> SubmissionOut:
    """One submission."""
    return present(SubmissionService(session, settings).get(submission_id), viewer)


@router.post("/submissions/{submission_id}/activate")
def activate(
    submission_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SubmissionOut:
    """Make this submission the one its agent plays; the previous one turns inactive."""
    return SubmissionOut.model_validate(
        SubmissionService(session, settings).activate(user, submission_id)
    )


@router.post("/submissions/{submission_id}/deactivate")
def deactivate(
    submission_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SubmissionOut:
    """Stop this submission from playing."""
    return SubmissionOut.model_validate(
        SubmissionService(session, settings).deactivate(user, submission_id)
    )


_ARCHIVE = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/submissions/{submission_id}/source",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The source as one archive (.zip or .tar.gz)",
            "content": {"application/zip": _ARCHIVE, "application/gzip": _ARCHIVE},
        },
        **error_answers(
            {
                409: "A Git submission whose build has not pinned a commit yet",
                502: "The submission's repository could not be fetched again",
            }
        ),
    },
)
def download_source(
    submission_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    """The submission's source as one archive (its agent's owner and admins): an uploaded
    archive as stored, a Git submission fetched again at its pinned commit (``.tar.gz``)."""
    source = SubmissionService(session, settings).source(user, submission_id)
    return FileResponse(
        source.path,
        media_type=source.media_type,
        filename=source.filename,
        background=BackgroundTask(source.discard),
    )
