"""rating history: one row per player of each finished ranked match

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 09:00:00.000000

The history of matches played before this revision is filled by replaying them exactly as
``botarena ratings recompute`` does (same order, same first ratings, same update), so the
last change of each submission ends at its stored rating, to the last bit. The replay is
written out here rather than imported, so this revision keeps meaning what it meant when the
application's code moves on; the ratings themselves are left untouched.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from openskill.models import PlackettLuce

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rating_changes",
        sa.Column("match_id", sa.String(length=32), nullable=False),
        sa.Column("player", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("game", sa.String(length=64), nullable=False),
        sa.Column("mu_before", sa.Float(), nullable=False),
        sa.Column("sigma_before", sa.Float(), nullable=False),
        sa.Column("mu_after", sa.Float(), nullable=False),
        sa.Column("sigma_after", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_rating_changes_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_rating_changes_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_rating_changes_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("match_id", "player", name=op.f("pk_rating_changes")),
    )
    with op.batch_alter_table("rating_changes", schema=None) as batch_op:
        batch_op.create_index("ix_rating_changes_agent_id_at", ["agent_id", "at"], unique=False)
        batch_op.create_index("ix_rating_changes_game_at", ["game", "at"], unique=False)
        batch_op.create_index(
            "ix_rating_changes_submission_id_at", ["submission_id", "at"], unique=False
        )
    _fill_history(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("rating_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_rating_changes_submission_id_at")
        batch_op.drop_index("ix_rating_changes_game_at")
        batch_op.drop_index("ix_rating_changes_agent_id_at")

    op.drop_table("rating_changes")


# The tables as this revision knows them.
_matches = sa.table(
    "matches",
    sa.column("id", sa.String),
    sa.column("game", sa.String),
    sa.column("status", sa.String),
    sa.column("ranked", sa.Boolean),
    sa.column("winner", sa.Integer),
    sa.column("finished_at", sa.DateTime(timezone=True)),
)
_players = sa.table(
    "match_players",
    sa.column("match_id", sa.String),
    sa.column("player", sa.Integer),
    sa.column("submission_id", sa.String),
)
_submissions = sa.table(
    "submissions",
    sa.column("id", sa.String),
    sa.column("agent_id", sa.String),
    sa.column("version", sa.Integer),
)
_changes = sa.table(
    "rating_changes",
    sa.column("match_id", sa.String),
    sa.column("player", sa.Integer),
    sa.column("submission_id", sa.String),
    sa.column("agent_id", sa.String),
    sa.column("game", sa.String),
    sa.column("mu_before", sa.Float),
    sa.column("sigma_before", sa.Float),
    sa.column("mu_after", sa.Float),
    sa.column("sigma_after", sa.Float),
    sa.column("at", sa.DateTime(timezone=True)),
)


def _fill_history(connection: sa.Connection) -> None:
    """Replay every finished ranked match in the order they finished, writing each player's
    change. A submission starts at its first ranked match from the mu of its agent's newest
    earlier version rated so far (sigma reset), else from the model's defaults."""
    model = PlackettLuce()
    ranked = sa.and_(_matches.c.ranked.is_(True), _matches.c.status == "finished")
    matches = connection.execute(
        sa.select(_matches.c.id, _matches.c.game, _matches.c.winner, _matches.c.finished_at)
        .where(ranked)
        .order_by(_matches.c.finished_at.asc(), _matches.c.id.asc())
    ).all()
    if not matches:
        return
    seats: dict[str, list[str]] = {}
    for match_id, submission_id in connection.execute(
        sa.select(_players.c.match_id, _players.c.submission_id)
        .join(_matches, _matches.c.id == _players.c.match_id)
        .where(ranked)
        .order_by(_players.c.match_id, _players.c.player)
    ):
        seats.setdefault(match_id, []).append(submission_id)
    versions = {
        sid: (agent, version)
        for sid, agent, version in connection.execute(
            sa.select(_submissions.c.id, _submissions.c.agent_id, _submissions.c.version)
        )
    }
    current: dict[str, tuple[float, float]] = {}  # submission -> (mu, sigma)
    by_agent: dict[str, dict[int, str]] = {}  # agent -> version -> rated submission
    rows: list[dict[str, Any]] = []
    for match_id, game, winner, finished_at in matches:
        pair = seats[match_id]
        for submission_id in pair:
            if submission_id not in current:
                agent, version = versions[submission_id]
                earlier = [v for v in by_agent.get(agent, {}) if v < version]
                mu = current[by_agent[agent][max(earlier)]][0] if earlier else model.mu
                current[submission_id] = (mu, model.sigma)
                by_agent.setdefault(agent, {})[version] = submission_id
        before = [model.rating(mu=current[s][0], sigma=current[s][1]) for s in pair]
        ranks = [1.0, 1.0] if winner is None else [1.0 if p == winner else 2.0 for p in range(2)]
        after = model.rate([[before[0]], [before[1]]], ranks=ranks)
        for player, (submission_id, team) in enumerate(zip(pair, after, strict=True)):
            mu_before, sigma_before = current[submission_id]
            mu_after, sigma_after = float(team[0].mu), float(team[0].sigma)
            current[submission_id] = (mu_after, sigma_after)
            rows.append(
                {
                    "match_id": match_id,
                    "player": player,
                    "submission_id": submission_id,
                    "agent_id": versions[submission_id][0],
                    "game": game,
                    "mu_before": mu_before,
                    "sigma_before": sigma_before,
                    "mu_after": mu_after,
                    "sigma_after": sigma_after,
                    "at": finished_at,
                }
            )
    for start in range(0, len(rows), 5000):
        connection.execute(sa.insert(_changes), rows[start : start + 5000])
