"""An entry whose provider says it has closed is held: nothing promotes it until the
directory catches up (the review closes itself then) or an officer dismisses the reply.

``held_entry_pks`` is the one place that says which entries are held. Social posts
waiting to go out are withdrawn at once, as for a removed entry (publisher.social.holds:
the outputs read this module, never the other way round).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.config import Settings, get_settings
from publisher.db import utcnow
from publisher.models import Change, ChangeKind, ReplyKind, Review, ReviewStatus


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
