"""social_posts.redrafted_from_id: a redraft remembers the post it was made from, so the
two-person rule can see everyone who edited any post in the chain

Revision ID: 0521_post_lineage
Revises: 0520_user_session_version
Create Date: 2026-12-02 18:40:00
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0521_post_lineage"
down_revision: str | Sequence[str] | None = "0520_user_session_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("social_posts") as batch:
        batch.add_column(sa.Column("redrafted_from_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_social_posts_redrafted_from_id_social_posts",
            "social_posts",
            ["redrafted_from_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Redrafts made before this revision: the audit log says where each came from.
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT object_id, note FROM audit_events "
            "WHERE action = 'social_post.redraft' AND object_type = 'social_post'"
        )
    ).all()
    for object_id, note in rows:
        found = re.search(r"Redrafted from post (\d+)", note or "")
        if found and str(object_id).isdigit():
            conn.execute(
                sa.text("UPDATE social_posts SET redrafted_from_id = :parent WHERE id = :id"),
                {"parent": int(found.group(1)), "id": int(object_id)},
            )


def downgrade() -> None:
    with op.batch_alter_table("social_posts") as batch:
        batch.drop_constraint("fk_social_posts_redrafted_from_id_social_posts", type_="foreignkey")
        batch.drop_column("redrafted_from_id")
