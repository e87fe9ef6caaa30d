"""crawl leases say who holds them; removals an officer confirmed after a held crawl

Revision ID: 0420_crawl_holds
Revises: 0310_social
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0420_crawl_holds"
down_revision: str | Sequence[str] | None = "0310_social"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # crawls.status gains the value "held": a plain string column, no constraint to change.
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("lock_holder", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("removals_confirmed", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("removals_confirmed")
        batch.drop_column("lock_holder")
