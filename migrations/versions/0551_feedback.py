""""You said, we did": families' comments on the Local Offer and the council's answers

Revision ID: 0551_feedback
Revises: 0550_bulletins
Create Date: 2026-12-02 18:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import publisher.db

revision: str = "0551_feedback"
down_revision: str | Sequence[str] | None = "0550_bulletins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, publisher.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        _when("created_at", nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("need", sa.String(length=64), nullable=True),
        sa.Column("consent_to_publish", sa.Boolean(), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("keep_contact", sa.Boolean(), nullable=False),
        _when("contact_erased_at"),
        sa.Column("you_said", sa.Text(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=True),
        _when("responded_at"),
        sa.Column(
            "responded_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")
        ),
        _when("published_at"),
        sa.Column(
            "published_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")
        ),
    )
    op.create_index("ix_feedback_state_published", "feedback", ["state", "published_at"])


def downgrade() -> None:
    op.drop_table("feedback")
