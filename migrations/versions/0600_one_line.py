"""one line of migrations again: joins the six pieces of work done side by side

Revision ID: 0600_one_line
Revises: 0500_reviews, 0510_edition_builds, 0522_subscriber_first_requested,
    0530_post_images, 0541_insight_entries, 0552_yswd_editions
Create Date: 2026-12-02 20:00:00

Provider reviews (0500), edition builds (0510), security (0520-0522), post images
(0530), insight (0540-0541) and the council's voice (0550-0552) each started from
0420_crawl_holds and touch different tables, so they apply in any order. This revision
changes nothing; it makes `alembic upgrade head` (one head) work again, and the next
migration starts from here.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0600_one_line"
down_revision: str | Sequence[str] | None = (
    "0500_reviews",
    "0510_edition_builds",
    "0522_subscriber_first_requested",
    "0530_post_images",
    "0541_insight_entries",
    "0552_yswd_editions",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
