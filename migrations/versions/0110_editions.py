"""editions, edition changes, variants and the delivery ledger

Revision ID: 0110_editions
Revises: 0100_subscribers
Create Date: 2026-11-27 20:00:47.043916
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import publisher.db

revision: str = "0110_editions"
down_revision: str | Sequence[str] | None = "0100_subscribers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "editions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "frequency",
            sa.Enum(
                "immediate", "weekly", "monthly", name="frequency", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("window_start", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("sending", "done", name="editionstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("change_count", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editions")),
        sa.UniqueConstraint("frequency", "window_end", name="uq_editions_window"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "failed",
                "skipped",
                name="deliverystatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_deliveries_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_deliveries_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("edition_id", "subscriber_id", name="uq_deliveries_edition_subscriber"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_claim", ["claim_token"], unique=False)
        batch_op.create_index(
            "ix_deliveries_edition_status", ["edition_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deliveries_subscriber_id"), ["subscriber_id"], unique=False
        )

    op.create_table(
        "edition_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "item_indexes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("adulthood_section", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_variants_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edition_variants")),
        sa.UniqueConstraint("edition_id", "number", name="uq_edition_variants_number"),
    )
    op.create_table(
        "edition_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column(
            "frequency",
            sa.Enum(
                "immediate", "weekly", "monthly", name="frequency", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["changes.id"],
            name=op.f("fk_edition_changes_change_id_changes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_changes_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edition_changes")),
        sa.UniqueConstraint("frequency", "change_id", name="uq_edition_changes_frequency_change"),
    )
    with op.batch_alter_table("edition_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_edition_changes_edition_id"), ["edition_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("edition_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_edition_changes_edition_id"))

    op.drop_table("edition_changes")
    op.drop_table("edition_variants")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_subscriber_id"))
        batch_op.drop_index("ix_deliveries_edition_status")
        batch_op.drop_index("ix_deliveries_claim")

    op.drop_table("deliveries")
    op.drop_table("editions")
