"""insight: a walk index by topic and kind, for filters that name a rare kind

Revision ID: 0640_insight_kind_walk
Revises: 0630_variant_needs_note
Create Date: 2026-12-03 11:00:00

A filter such as "came back, 16 to 25, sensory needs, childcare, district 3" walked the
kind's own rows (every reopened change) testing the other topics' bits, thousands of
rows for a page that has a few dozen matches. Each topic row now carries its change's
kind, and a second walk index starts with topic and kind, so such a filter walks only
the changes of that kind with its rarest other topic.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0640_insight_kind_walk"
down_revision: str | Sequence[str] | None = "0630_variant_needs_note"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("insight_change_topics") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default=""))
    op.execute(
        "UPDATE insight_change_topics SET kind = (SELECT c.kind FROM insight_changes AS c "
        "WHERE c.change_id = insight_change_topics.change_id)"
    )
    op.create_index(
        "ix_insight_change_topics_kind_walk",
        "insight_change_topics",
        ["topic", "kind", "occurred_at", "change_id", "mask"],
    )


def downgrade() -> None:
    op.drop_index("ix_insight_change_topics_kind_walk", table_name="insight_change_topics")
    with op.batch_alter_table("insight_change_topics") as batch:
        batch.drop_column("kind")
