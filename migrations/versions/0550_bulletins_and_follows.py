"""bulletins written by the council, their edition and urgent ledgers; subscribers who
follow single services

Revision ID: 0550_bulletins
Revises: 0420_crawl_holds
Create Date: 2026-12-02 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import publisher.db

revision: str = "0550_bulletins"
down_revision: str | Sequence[str] | None = "0420_crawl_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, publisher.db.UTCDateTime(timezone=True), nullable=nullable)


def _user(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"))


def upgrade() -> None:
    op.create_table(
        "bulletins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body_source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("audience", JSON, nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        _when("created_at", nullable=False),
        _user("created_by_id"),
        _when("edited_at"),
        _user("edited_by_id"),
        _when("approved_at"),
        _user("approved_by_id"),
        _when("withdrawn_at"),
        _when("urgent_planned_at"),
        sa.Column("urgent_recipients", sa.Integer(), nullable=False),
    )
    op.create_index("ix_bulletins_state_approved", "bulletins", ["state", "approved_at"])
    op.create_table(
        "bulletin_editions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "bulletin_id",
            sa.Integer(),
            sa.ForeignKey("bulletins.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column(
            "edition_id",
            sa.Integer(),
            sa.ForeignKey("editions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.UniqueConstraint("bulletin_id", "frequency", name="uq_bulletin_editions_frequency"),
    )
    op.create_index("ix_bulletin_editions_edition_id", "bulletin_editions", ["edition_id"])
    op.create_table(
        "bulletin_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "bulletin_id",
            sa.Integer(),
            sa.ForeignKey("bulletins.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "subscriber_id",
            sa.Integer(),
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        _when("claimed_at"),
        _when("sent_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint(
            "bulletin_id", "subscriber_id", name="uq_bulletin_deliveries_subscriber"
        ),
    )
    op.create_index(
        "ix_bulletin_deliveries_status", "bulletin_deliveries", ["bulletin_id", "status"]
    )
    op.create_index(
        "ix_bulletin_deliveries_subscriber_id", "bulletin_deliveries", ["subscriber_id"]
    )
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("follows", JSON, nullable=False, server_default="[]"))
        batch.add_column(
            sa.Column("topic_news", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("topic_news")
        batch.drop_column("follows")
    op.drop_table("bulletin_deliveries")
    op.drop_table("bulletin_editions")
    op.drop_table("bulletins")
