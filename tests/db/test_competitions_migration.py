"""Revision 0014 on a database with agents, matches and ratings already there: each game gets
one default competition that everything of the game moves into, and every agent a one-person
team of its owner (one team per owner and competition); the downgrade removes it all."""

from __future__ import annotations

from sqlalchemy import inspect, select, text

from botarena.agents.models import Agent
from botarena.competitions.models import Competition
from botarena.db import migrate
from botarena.db.engine import build_engine
from botarena.matches.models import Match
from botarena.ratings.models import Rating, RatingChange
from botarena.settings import Settings
from botarena.teams.models import Team, TeamMember

from support.accounts import Account
from support.api import create_agent
from support.court import Court


def test_the_migration_moves_everything_into_default_competitions_and_teams(
    court: Court, settings: Settings, alice: Account, bob: Account
) -> None:
    a1 = court.ready(alice, "a-one")[0]
    a2 = court.ready(alice, "a-two")[0]
    b1 = court.ready(bob, "b-one")[0]
    court.play((a1, b1), 0)
    court.play((a2, b1), None)
    alice_rps = create_agent(court.client, alice, "a-rps", game="rps")

    engine = build_engine(settings.resolved_database_url)
    try:
        migrate.downgrade(engine, "0013")
        assert not {"competitions", "teams", "team_members"} & set(
            inspect(engine).get_table_names()
        )
        assert "competition_id" not in {c["name"] for c in inspect(engine).get_columns("agents")}
        with engine.begin() as connection:  # rows written before competitions existed
            assert connection.execute(text("SELECT count(*) FROM agents")).scalar() == 4
        migrate.upgrade(engine)
    finally:
        migrate.upgrade(engine)  # the shared PostgreSQL template stays at head whatever happens
        engine.dispose()

    with court.factory() as session:
        competitions = {c.game: c for c in session.scalars(select(Competition))}
        assert set(competitions) == {"connectx", "rps"}
        connectx = competitions["connectx"]
        assert connectx.is_default and connectx.slug == "connectx"
        assert connectx.title == "ConnectX" and connectx.visibility == "public"
        assert connectx.opens_at is None and connectx.daily_submission_limit is None
        agents = {a.id: a for a in session.scalars(select(Agent))}
        assert agents[alice_rps].competition_id == competitions["rps"].id
        for agent_id in (a1, a2, b1):
            assert agents[agent_id].competition_id == connectx.id
        for table in (Match, Rating, RatingChange):
            assert {row.competition_id for row in session.scalars(select(table))} == {connectx.id}

        # alice's two ConnectX agents share her one team there; her RPS agent has another.
        assert agents[a1].team_id == agents[a2].team_id != agents[b1].team_id
        assert agents[alice_rps].team_id not in {agents[a1].team_id, agents[b1].team_id}
        teams = {t.id: t for t in session.scalars(select(Team))}
        assert len(teams) == 3
        alice_team = teams[agents[a1].team_id]
        assert alice_team.name == "alice" and alice_team.competition_id == connectx.id
        members = session.scalars(select(TeamMember)).all()
        assert sorted((m.team_id, m.user_id, m.role) for m in members) == sorted(
            (agents[a].team_id, agents[a].owner_id, "owner") for a in (a1, b1, alice_rps)
        )


def test_agents_made_after_the_migration_join_the_default_competition_and_a_team(
    court: Court, alice: Account
) -> None:
    first = create_agent(court.client, alice, "first")
    second = create_agent(court.client, alice, "second")
    with court.factory() as session:
        one, two = session.get(Agent, first), session.get(Agent, second)
        assert one is not None and two is not None
        competition = session.get(Competition, one.competition_id)
        assert competition is not None and competition.is_default
        assert competition.game == "connectx"
        assert one.team_id == two.team_id and one.competition_id == two.competition_id
        team = session.get(Team, one.team_id)
        assert team is not None and [m.user_id for m in team.members] == [one.owner_id]
