"""competition phases: the final evaluation's state, final selections and frozen standings

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_NEW_COLUMNS = (
    ("final_started_at", sa.DateTime(timezone=True)),
    ("final_rounds", sa.Integer()),
    ("final_tournament_id", sa.String(length=32)),
    ("frozen_at", sa.DateTime(timezone=True)),
    ("announced_phase", sa.String(length=16)),
)


def upgrade() -> None:
    for name, kind in _NEW_COLUMNS:
        op.add_column("competitions", sa.Column(name, kind, nullable=True))
    op.create_table(
        "final_selections",
        sa.Column("competition_id", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("selected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_final_selections_competition_id_competitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_final_selections_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_final_selections_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "competition_id", "submission_id", name=op.f("pk_final_selections")
        ),
    )
    op.create_index(op.f("ix_final_selections_team_id"), "final_selections", ["team_id"])
    op.create_table(
        "final_standings",
        sa.Column("competition_id", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("agent_name", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("team_name", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("mu", sa.Float(), nullable=False),
        sa.Column("sigma", sa.Float(), nullable=False),
        sa.Column("games", sa.Integer(), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("losses", sa.Integer(), nullable=False),
        sa.Column("draws", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_final_standings_competition_id_competitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("competition_id", "submission_id", name=op.f("pk_final_standings")),
    )


def downgrade() -> None:
    op.drop_table("final_standings")
    op.drop_index(op.f("ix_final_selections_team_id"), table_name="final_selections")
    op.drop_table("final_selections")
    # In place, not by a batch copy: on SQLite a copy of ``competitions`` would cascade.
    for name, _ in reversed(_NEW_COLUMNS):
        op.drop_column("competitions", name)
