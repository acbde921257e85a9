"""Races: joins at the same moment never fill a team past its size, and a user joining two
teams at once ends in one."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from botarena.accounts.models import User
from botarena.agents.teams import AgentTeams
from botarena.audit.context import ActionContext
from botarena.db.engine import SessionFactory
from botarena.errors import AppError
from botarena.teams.service import TeamService

from support.accounts import Account, MakeUser
from support.races import race
from support.teams import create_team, default_competition, team


def _joiner(factory: SessionFactory, account: Account, code: str) -> Callable[[], str]:
    def join() -> str:
        with factory() as session:
            user = session.get(User, account.id)
            assert user is not None
            service = TeamService(session, AgentTeams(session))
            return service.join(user, code, ActionContext.of(user, None, None)).id

    return join


def test_joins_at_once_never_fill_a_team_past_its_size(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory
) -> None:
    owner = make_user("owner")
    made = create_team(client, owner, default_competition(session_factory, max_team_size=3), "Trio")
    joiners = [make_user(f"user{i}") for i in range(5)]
    results = race([_joiner(session_factory, a, made["inviteCode"]) for a in joiners])
    joined = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, AppError)]
    assert len(joined) == 2 and len(refused) == 3, results
    assert all(r.status_code == 409 for r in refused)
    assert len(team(client, made["team"]["id"])["members"]) == 3


def test_a_user_joining_two_teams_at_once_ends_in_one(
    client: TestClient, make_user: MakeUser, session_factory: SessionFactory
) -> None:
    competition = default_competition(session_factory)
    red = create_team(client, make_user("alice"), competition, "Red")
    blue = create_team(client, make_user("bob"), competition, "Blue")
    carol = make_user("carol")
    results = race(
        [_joiner(session_factory, carol, red["inviteCode"]),
         _joiner(session_factory, carol, blue["inviteCode"])]
    )  # fmt: skip
    assert sum(isinstance(r, str) for r in results) == 1, results
    assert [r.status_code for r in results if isinstance(r, AppError)] == [409]
    mine = client.get("/api/v1/teams/mine", headers=carol.headers).json()
    assert len(mine) == 1
