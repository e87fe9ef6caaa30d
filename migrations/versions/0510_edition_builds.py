"""editions are built in chunks that commit one by one and can be resumed

Revision ID: 0510_edition_builds
Revises: 0420_crawl_holds
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0510_edition_builds"
down_revision: str | Sequence[str] | None = "0420_crawl_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # editions.status gains "building" and deliveries.status gains "unknown": plain
    # string columns, no constraint to change.
    with op.batch_alter_table("editions") as batch:
        # The last subscriber id the build has written deliveries up to (a resumed
        # build carries on after it), and when the builder last showed it was alive.
        batch.add_column(sa.Column("built_through", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("built_through")
