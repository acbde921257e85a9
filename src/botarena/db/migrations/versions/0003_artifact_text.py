"""artifacts as text: a build's artifact carries its scan warnings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column(
            "artifact", existing_type=sa.String(length=1024), type_=sa.Text(), nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column(
            "artifact", existing_type=sa.Text(), type_=sa.String(length=1024), nullable=True
        )
