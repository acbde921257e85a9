"""teams: invite codes (their hashes), merge requests, disbanding

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 01:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain nullable columns, added and dropped in place on both databases.
    op.add_column("teams", sa.Column("invite_code_hash", sa.String(length=64), nullable=True))
    op.add_column("teams", sa.Column("merge_into_id", sa.String(length=32), nullable=True))
    op.add_column(
        "teams", sa.Column("merge_requested_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("teams", sa.Column("disbanded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_teams_invite_code_hash"), "teams", ["invite_code_hash"], unique=True)
    op.create_index(op.f("ix_teams_merge_into_id"), "teams", ["merge_into_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_teams_merge_into_id"), table_name="teams")
    op.drop_index(op.f("ix_teams_invite_code_hash"), table_name="teams")
    for column in ("disbanded_at", "merge_requested_at", "merge_into_id", "invite_code_hash"):
        op.drop_column("teams", column)
