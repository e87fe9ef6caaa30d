"""An entry whose provider says it has closed is held: nothing promotes it until the
directory catches up (the review closes itself then) or an officer dismisses the reply.

``held_entry_pks`` is the one place that says which entries are held. Social posts
waiting to go out are withdrawn at once, as for a removed entry (publisher.social.holds:
the outputs read this module, never the other way round).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import ChangeKind, ReplyKind, Review, ReviewStatus


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
