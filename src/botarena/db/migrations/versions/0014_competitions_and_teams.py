"""competitions and teams: a default competition per game, a one-person team per owner

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 01:00:00.000000
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from botarena.games.registry import known_games

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The tables that gain a competition: each keeps its game, which names the default one.
_BY_GAME = ("agents", "matches", "ratings", "rating_changes", "tournaments")


def _time(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


def upgrade() -> None:
    _create_tables()
    # Plain nullable columns without foreign keys, added and dropped in place on both
    # databases: a batch copy of ``agents`` or ``matches`` on SQLite would cascade into every
    # row that refers to them.
    for table in _BY_GAME:
        op.add_column(table, sa.Column("competition_id", sa.String(length=32), nullable=True))
    op.add_column("agents", sa.Column("team_id", sa.String(length=32), nullable=True))
    for table in ("agents", "matches", "ratings", "tournaments"):
        op.create_index(op.f(f"ix_{table}_competition_id"), table, ["competition_id"])
    op.create_index(op.f("ix_agents_team_id"), "agents", ["team_id"])
    op.create_index(
        "ix_rating_changes_competition_id_at", "rating_changes", ["competition_id", "at"]
    )
    _fill()


def _create_tables() -> None:
    op.create_table(
        "competitions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("game", sa.String(length=64), nullable=False),
        sa.Column("configuration", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("join_code_hash", sa.String(length=128), nullable=True),
        _time("opens_at", nullable=True),
        _time("deadline_at", nullable=True),
        _time("final_ends_at", nullable=True),
        sa.Column("daily_submission_limit", sa.Integer(), nullable=True),
        sa.Column("final_submissions_per_team", sa.Integer(), nullable=False),
        sa.Column("max_team_size", sa.Integer(), nullable=True),
        sa.Column("team_merges", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        _time("created_at", nullable=False),
        _time("updated_at", nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_competitions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitions")),
        sa.UniqueConstraint("slug", name=op.f("uq_competitions_slug")),
    )
    op.create_index(op.f("ix_competitions_game"), "competitions", ["game"])
    op.create_index(
        "uq_competitions_default_game",
        "competitions",
        ["game"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("competition_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        _time("created_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_teams_competition_id_competitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_teams_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("competition_id", "name_key", name="uq_teams_competition_name"),
    )
    op.create_index(op.f("ix_teams_competition_id"), "teams", ["competition_id"])
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("competition_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        _time("joined_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_team_members_competition_id_competitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_members_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_team_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_members")),
        sa.UniqueConstraint("competition_id", "user_id", name="uq_team_members_competition_user"),
    )
    op.create_index("ix_team_members_user_id", "team_members", ["user_id"])


def _fill() -> None:
    """What existed before competitions moves into the default competition of its game, and
    every agent into a one-person team of its owner."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    games: set[str] = set()
    for table in _BY_GAME:
        games.update(bind.execute(sa.text(f"SELECT DISTINCT game FROM {table}")).scalars())  # noqa: S608 - fixed names
    competitions = sa.table(
        "competitions",
        *(
            sa.column(name)
            for name in (
                "id",
                "slug",
                "game",
                "configuration",
                "title",
                "description",
                "is_default",
                "visibility",
                "final_submissions_per_team",
                "team_merges",
                "created_at",
                "updated_at",
                "row_version",
            )
        ),
    )
    default_of: dict[str, str] = {}
    titles = {game.id: game.title for game in known_games().values()}
    for game in sorted(games):
        default_of[game] = _new_id("cmp")
        bind.execute(
            competitions.insert().values(
                id=default_of[game],
                slug=game,
                game=game,
                configuration="{}",
                title=titles.get(game, game),
                description="",
                is_default=True,
                visibility="public",
                final_submissions_per_team=2,
                team_merges=True,
                created_at=now,
                updated_at=now,
                row_version=1,
            )
        )
    for table in _BY_GAME:
        for game, competition_id in default_of.items():
            bind.execute(
                sa.text(f"UPDATE {table} SET competition_id = :c WHERE game = :g"),  # noqa: S608
                {"c": competition_id, "g": game},
            )
    owners = bind.execute(
        sa.text(
            "SELECT DISTINCT a.competition_id, a.owner_id, u.username FROM agents a"
            " JOIN users u ON u.id = a.owner_id"
        )
    ).all()
    for competition_id, owner_id, username in owners:
        team_id = _new_id("tea")
        bind.execute(
            sa.text(
                "INSERT INTO teams (id, competition_id, name, name_key, created_by, created_at)"
                " VALUES (:id, :c, :name, :key, :owner, :now)"
            ),
            {
                "id": team_id,
                "c": competition_id,
                "name": username,
                "key": username.lower(),
                "owner": owner_id,
                "now": now,
            },
        )
        bind.execute(
            sa.text(
                "INSERT INTO team_members (team_id, user_id, competition_id, role, joined_at)"
                " VALUES (:t, :u, :c, 'owner', :now)"
            ),
            {"t": team_id, "u": owner_id, "c": competition_id, "now": now},
        )
        bind.execute(
            sa.text("UPDATE agents SET team_id = :t WHERE competition_id = :c AND owner_id = :u"),
            {"t": team_id, "c": competition_id, "u": owner_id},
        )


def downgrade() -> None:
    op.drop_index("ix_rating_changes_competition_id_at", table_name="rating_changes")
    op.drop_index(op.f("ix_agents_team_id"), table_name="agents")
    for table in ("agents", "matches", "ratings", "tournaments"):
        op.drop_index(op.f(f"ix_{table}_competition_id"), table_name=table)
    op.drop_column("agents", "team_id")
    for table in _BY_GAME:
        op.drop_column(table, "competition_id")
    op.drop_index("ix_team_members_user_id", table_name="team_members")
    op.drop_table("team_members")
    op.drop_index(op.f("ix_teams_competition_id"), table_name="teams")
    op.drop_table("teams")
    op.drop_index("uq_competitions_default_game", table_name="competitions")
    op.drop_index(op.f("ix_competitions_game"), table_name="competitions")
    op.drop_table("competitions")
