"""images uploaded for social posts (issue 13.6)

Revision ID: 0530_post_images
Revises: 0420_crawl_holds
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import publisher.db

revision: str = "0530_post_images"
down_revision: str | Sequence[str] | None = "0420_crawl_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "social_post_images",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "post_id",
            sa.Integer(),
            sa.ForeignKey("social_posts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("mime_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("token", name="uq_social_post_images_token"),
    )
    op.create_index("ix_social_post_images_post_id", "social_post_images", ["post_id"])


def downgrade() -> None:
    op.drop_index("ix_social_post_images_post_id", table_name="social_post_images")
    op.drop_table("social_post_images")
