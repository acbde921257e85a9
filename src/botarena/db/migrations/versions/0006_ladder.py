"""ladder switches per game

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:27:59.253109
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ladder_games",
        sa.Column("game", sa.String(length=64), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("game", name=op.f("pk_ladder_games")),
    )


def downgrade() -> None:
    op.drop_table("ladder_games")
