"""entries: opening times, told in plain words when they change

Revision ID: 0620_entry_opening_times
Revises: 0610_insight_tag_masks
Create Date: 2026-12-03 06:20:00

Each entry keeps its opening times as one line ("Monday to Friday, 9am to 5pm"), so that
a change of hours is told with the old and new hours (issue 13). The column starts NULL
("not read yet") on every existing row, and nothing is filled here: the next complete
crawl of each source fills it from the stored record, silently (no change is logged and
the content hash is kept), so that this release announces nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0620_entry_opening_times"
down_revision: str | Sequence[str] | None = "0610_insight_tag_masks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("opening_times", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("opening_times")
