"""insight: each entry's share of the freshness and coverage counts (kept by difference)

Revision ID: 0541_insight_entries
Revises: 0540_insight
Create Date: 2026-12-02 19:45:00

The table starts empty: the next refresh counts every entry once, then only the entries
each crawl touches.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import publisher.db

revision: str = "0541_insight_entries"
down_revision: str | Sequence[str] | None = "0540_insight"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insight_entries",
        sa.Column("entry_pk", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("present_keys", publisher.db.JSONType, nullable=False),
        sa.Column("checked_keys", publisher.db.JSONType, nullable=False),
        sa.Column("checked_until", sa.Date(), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("entry_pk", name=op.f("pk_insight_entries")),
    )
    op.create_index("ix_insight_entries_aging", "insight_entries", ["counted", "checked_until"])


def downgrade() -> None:
    op.drop_index("ix_insight_entries_aging", table_name="insight_entries")
    op.drop_table("insight_entries")
