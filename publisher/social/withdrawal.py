"""Automatic withdrawal: a post still waiting to go out is withdrawn when an entry it
announces is removed or goes stale, with a note in the audit log (actor: the system).

It works from the entries' current state rather than from change events, so a missed
event is caught by the next sweep, and it runs again just before publishing.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from publisher.models.entries import Entry
from publisher.models.social import Post, PostChange, PostState
from publisher.social.queue import PENDING, withdraw


def gone_reason(entry: Entry) -> str:
    if not entry.present:
        return (
            f"Withdrawn automatically: {entry.name} was removed from the Local Offer "
            "before this post went out."
        )
    return (
        f"Withdrawn automatically: {entry.name} has not been checked for too long "
        "(stale), so it is not promoted."
    )


def withdraw_for_gone_entries(session: Session, post_ids: list[int] | None = None) -> list[int]:
    """Withdraw pending posts (not closure notices) whose entries are removed or stale."""
    from publisher.reviews.holds import trusted_entry_pks

    trusted = trusted_entry_pks(session)  # issue 9, TRUST_PROVIDER_CONFIRMATIONS
    query = (
        select(Post, Entry)
        .join(PostChange, PostChange.post_id == Post.id)
        .join(Entry, Entry.id == PostChange.entry_pk)
        .where(
            Post.state.in_([*PENDING, PostState.FAILED]),
            Post.kind != "closed",
            or_(
                Entry.present.is_(False),
                # Stale, unless its provider confirmed it and the council trusts that.
                and_(Entry.stale.is_(True), Entry.id.not_in(sorted(trusted) or [-1])),
            ),
        )
        .order_by(Post.id)
    )
    if post_ids is not None:
        query = query.where(Post.id.in_(post_ids or [-1]))
    done: list[int] = []
    for post, entry in session.execute(query).all():
        if post.id in done or post.state not in (*PENDING, PostState.FAILED):
            continue
        withdraw(session, None, post, gone_reason(entry), system=True)
        done.append(post.id)
    # Spotlights (issue 14) name their entry in entry_refs, not through a change.
    from publisher.social.spotlights import withdraw_gone_spotlights

    done.extend(withdraw_gone_spotlights(session, post_ids))
    return done
