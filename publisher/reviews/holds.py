"""An entry whose provider says it has closed is held: nothing promotes it until the
directory catches up (the review closes itself then) or an officer dismisses the reply.

``held_entry_pks`` is the one place that says which entries are held. Social posts
waiting to go out are withdrawn at once, as for a removed entry.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.db import session_scope
from publisher.models import ChangeKind, Entry, Post, PostChange, ReplyKind, Review, ReviewStatus
from publisher.models.social import PostState


def promotes(kind: ChangeKind) -> bool:
    """News that would promote the entry; a removal (the directory catching up) is not."""
    return kind is not ChangeKind.REMOVED


def held_entry_pks(session: Session) -> set[int]:
    return set(
        session.scalars(
            select(Review.entry_pk).where(
                Review.status == ReviewStatus.OPEN, Review.reply == ReplyKind.CLOSED
            )
        )
    )


def withdraw_held_posts(session: Session, entry_pks: set[int] | None = None) -> list[int]:
    """Withdraw posts still waiting to promote a held entry (not closure notices)."""
    from publisher.social.queue import PENDING, withdraw

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
