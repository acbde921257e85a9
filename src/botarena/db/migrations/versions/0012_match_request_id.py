"""the id of the request that created a match

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


# A plain nullable column, added and dropped in place on both databases (SQLite 3.35 or later
# drops a column without copying the table): a batch copy of ``matches`` would drop it, and
# with foreign keys on, its players and status history would go with it.


def upgrade() -> None:
    # Bound into the dispatcher's and the executor's log lines of the match.
    op.add_column("matches", sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("matches", "request_id")
