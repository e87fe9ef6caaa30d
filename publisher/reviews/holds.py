"""An entry whose provider says it has closed is held: nothing promotes it until the
directory catches up (the review closes itself then) or an officer dismisses the reply.

``held_entry_pks`` is the one place that says which entries are held. Social posts
waiting to go out are withdrawn at once, as for a removed entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.config import Settings, get_settings
from publisher.db import session_scope, utcnow
from publisher.models import (
    Change,
    ChangeKind,
    Entry,
    Post,
    PostChange,
    ReplyKind,
    Review,
    ReviewStatus,
)
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


def trusted_entry_pks(session: Session, settings: Settings | None = None) -> set[int]:
    """With TRUST_PROVIDER_CONFIRMATIONS: entries a provider said were still correct within
    STALE_AFTER_DAYS, which then count as checked for publishing. Empty when it is off."""
    settings = settings or get_settings()
    if not settings.trust_provider_confirmations:
        return set()
    since = utcnow() - dt.timedelta(days=settings.stale_after_days)
    return set(
        session.scalars(
            select(Review.entry_pk).where(
                Review.reply == ReplyKind.STILL_CORRECT, Review.replied_at >= since
            )
        )
    )


class TrustedChange:
    """A change read as if its entry were checked (its snapshot says "not stale"), for an
    entry the provider confirmed; everything else is the change's own."""

    def __init__(self, change: Change) -> None:
        self._change = change
        self.snapshot: dict[str, Any] = {**(change.snapshot or {}), "stale": False}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._change, name)


def as_checked(change: Change, trusted: set[int]) -> Change:
    if change.entry_pk in trusted and (change.snapshot or {}).get("stale"):
        return cast(Change, TrustedChange(change))
    return change
