"""insight summaries: the change log as families read it, counts, snapshots, editions

Revision ID: 0540_insight
Revises: 0420_crawl_holds
Create Date: 2026-12-02 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import publisher.db

revision: str = "0540_insight"
down_revision: str | Sequence[str] | None = "0420_crawl_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = publisher.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "insight_changes",
        sa.Column("change_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("entry_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("topics", publisher.db.JSONType, nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.ARRAY(sa.String(length=120)), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["changes.id"],
            name=op.f("fk_insight_changes_change_id_changes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_insight_changes")),
    )
    op.create_index("ix_insight_changes_occurred", "insight_changes", ["occurred_at", "change_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_insight_changes_tags", "insight_changes", ["tags"], postgresql_using="gin"
        )
    op.create_table(
        "insight_change_topics",
        sa.Column("change_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("topic", sa.String(length=120), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["insight_changes.change_id"],
            name=op.f("fk_insight_change_topics_change_id_insight_changes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("change_id", "topic", name=op.f("pk_insight_change_topics")),
    )
    op.create_index(
        "ix_insight_change_topics_walk",
        "insight_change_topics",
        ["topic", "occurred_at", "change_id"],
    )
    op.create_table(
        "insight_counts",
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "period", "key", name=op.f("pk_insight_counts")),
    )
    op.create_table(
        "insight_snapshots",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "metric", "key", name=op.f("pk_insight_snapshots")),
    )
    op.create_table(
        "insight_editions",
        sa.Column("edition_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("finished_on", sa.Date(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_insight_editions_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("edition_id", name=op.f("pk_insight_editions")),
    )
    op.create_index(op.f("ix_insight_editions_finished_on"), "insight_editions", ["finished_on"])
    op.create_table(
        "insight_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_insight_state")),
    )


def downgrade() -> None:
    op.drop_table("insight_state")
    op.drop_index(op.f("ix_insight_editions_finished_on"), table_name="insight_editions")
    op.drop_table("insight_editions")
    op.drop_table("insight_snapshots")
    op.drop_table("insight_counts")
    op.drop_index("ix_insight_change_topics_walk", table_name="insight_change_topics")
    op.drop_table("insight_change_topics")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_insight_changes_tags", table_name="insight_changes")
    op.drop_index("ix_insight_changes_occurred", table_name="insight_changes")
    op.drop_table("insight_changes")
