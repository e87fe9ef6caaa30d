"""edition variants: whether items that name no need say why they are there

Revision ID: 0630_variant_needs_note
Revises: 0620_entry_opening_times
Create Date: 2026-12-03 06:10:00

Only readers who chose a need are told "No need is listed for this service, so we
include it for everyone." (issue 13.3), so it is part of what a variant is. Variants
already written say false: their emails go out without the note.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0630_variant_needs_note"
down_revision: str | Sequence[str] | None = "0620_entry_opening_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("edition_variants") as batch:
        batch.add_column(
            sa.Column("needs_note", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("edition_variants") as batch:
        batch.drop_column("needs_note")
