"""subscribers may ask for "You said, we did" answers in their editions; which edition of
each frequency carried each answer

Revision ID: 0552_yswd_editions
Revises: 0551_feedback
Create Date: 2026-12-02 19:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0552_yswd_editions"
down_revision: str | Sequence[str] | None = "0551_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(
            sa.Column("you_said_we_did", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "feedback_editions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "feedback_id",
            sa.Integer(),
            sa.ForeignKey("feedback.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column(
            "edition_id",
            sa.Integer(),
            sa.ForeignKey("editions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.UniqueConstraint("feedback_id", "frequency", name="uq_feedback_editions_frequency"),
    )
    op.create_index("ix_feedback_editions_edition_id", "feedback_editions", ["edition_id"])


def downgrade() -> None:
    op.drop_table("feedback_editions")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("you_said_we_did")
