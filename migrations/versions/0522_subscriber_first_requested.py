"""subscribers.first_requested_at: retention of an unconfirmed address counts from the
first request of a chain, so repeated requests cannot keep it stored

Revision ID: 0522_subscriber_first_requested
Revises: 0521_post_lineage
Create Date: 2026-12-02 18:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0522_subscriber_first_requested"
down_revision: str | Sequence[str] | None = "0521_post_lineage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("first_requested_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE subscribers SET first_requested_at = requested_at")


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("first_requested_at")
