"""Social posts waiting to promote an entry whose provider says it has closed are
withdrawn at once, as for a removed entry (issue 9; which entries are held is decided in
publisher.reviews.holds)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.db import session_scope
from publisher.models import Entry, Post, PostChange
from publisher.models.social import PostState
from publisher.reviews.holds import held_entry_pks
from publisher.social.queue import PENDING, withdraw


def withdraw_held_posts(session: Session, entry_pks: set[int] | None = None) -> list[int]:
    """Withdraw posts still waiting to promote a held entry (not closure notices)."""
    held = held_entry_pks(session) if entry_pks is None else entry_pks
    if not held:
        return []
    done: list[int] = []
    rows = session.execute(
        select(Post, Entry)
        .join(PostChange, PostChange.post_id == Post.id)
        .join(Entry, Entry.id == PostChange.entry_pk)
        .where(
            Entry.id.in_(sorted(held)),
            Post.state.in_([*PENDING, PostState.FAILED]),
            Post.kind != "closed",
        )
        .order_by(Post.id)
    ).all()
    for post, entry in rows:
        if post.id in done or post.state not in (*PENDING, PostState.FAILED):
            continue
        withdraw(
            session,
            None,
            post,
            f"Withdrawn automatically: the provider told us {entry.name} has closed.",
            system=True,
        )
        done.append(post.id)
    return done


def hold_closed_entry(entry_pk: int) -> list[int]:
    """Right after a provider says "closed": withdraw what was waiting to promote it."""
    with session_scope() as session:
        done = withdraw_held_posts(session, {entry_pk})
        session.commit()
    return done
