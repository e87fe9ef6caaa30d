"""insight: topic masks for filters of several topics, and pages built once per refresh

Revision ID: 0610_insight_tag_masks
Revises: 0600_one_line
Create Date: 2026-12-03 01:30:00

Each topic row of a change now carries the change's topics as a bit mask, and the walk
index ends with it, so ``/changes?age=..&need=..`` walks the rarest topic and tests the
others inside the index instead of one lookup per row. Bits are given to the topics
already summarised (in name order) and the masks filled from the rows there are.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0610_insight_tag_masks"
down_revision: str | Sequence[str] | None = "0600_one_line"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MASK_BITS = 63  # as publisher.insight.tagbits.MASK_BITS: a signed 64-bit integer's bits


def upgrade() -> None:
    op.create_table(
        "insight_tag_bits",
        sa.Column("tag", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tag", name=op.f("pk_insight_tag_bits")),
        sa.UniqueConstraint("position", name=op.f("uq_insight_tag_bits_position")),
    )
    op.create_table(
        "insight_built",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_insight_built")),
    )
    with op.batch_alter_table("insight_change_topics") as batch:
        batch.add_column(sa.Column("mask", sa.BigInteger(), nullable=False, server_default="0"))
    op.drop_index("ix_insight_change_topics_walk", table_name="insight_change_topics")
    bind = op.get_bind()
    tags = bind.execute(
        sa.text("SELECT DISTINCT topic FROM insight_change_topics ORDER BY topic")
    ).scalars()
    rows = [{"tag": tag, "position": n} for n, tag in enumerate(tags) if n < MASK_BITS]
    if rows:
        bits = sa.table("insight_tag_bits", sa.column("tag"), sa.column("position"))
        op.bulk_insert(bits, rows)  # type: ignore[arg-type]
        # A change's topics are distinct (the primary key), so the sum of their bits is
        # their OR, which both databases can add up.
        op.execute(
            "UPDATE insight_change_topics SET mask = (SELECT COALESCE(SUM("
            "CAST(1 AS BIGINT) << b.position), 0) FROM insight_change_topics AS t "
            "JOIN insight_tag_bits AS b ON b.tag = t.topic "
            "WHERE t.change_id = insight_change_topics.change_id)"
        )
    op.create_index(
        "ix_insight_change_topics_walk",
        "insight_change_topics",
        ["topic", "occurred_at", "change_id", "mask"],
    )


def downgrade() -> None:
    op.drop_index("ix_insight_change_topics_walk", table_name="insight_change_topics")
    with op.batch_alter_table("insight_change_topics") as batch:
        batch.drop_column("mask")
    op.create_index(
        "ix_insight_change_topics_walk",
        "insight_change_topics",
        ["topic", "occurred_at", "change_id"],
    )
    op.drop_table("insight_built")
    op.drop_table("insight_tag_bits")
