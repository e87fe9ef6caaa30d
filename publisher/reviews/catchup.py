"""The loop closes by itself: after a complete crawl, an open review whose entry the
directory has since removed, re-checked (assured date moved forward) or changed is closed
with a note. Runs inside the crawl's transaction, so the entries and the reviews agree."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from publisher import audit
from publisher.models import Entry, Review, ReviewStatus


def caught_up_reason(
    present: bool,
    assured: dt.date | None,
    content_hash: str,
    assured_at_open: dt.date | None,
    hash_at_open: str,
) -> str | None:
    if not present:
        return "Closed automatically: the directory removed this entry"
    if assured is not None and (assured_at_open is None or assured > assured_at_open):
        return f"Closed automatically: the directory says it was checked on {assured.isoformat()}"
    if hash_at_open and content_hash != hash_at_open:
        return "Closed automatically: the directory's details for this entry changed"
    return None


def close_caught_up(session: Session, source_id: int, now: dt.datetime) -> int:
    """Close this source's open reviews the directory has caught up with; returns how many."""
    rows = session.execute(
        select(
            Review.id,
            Review.assured_at_open,
            Review.hash_at_open,
            Entry.present,
            Entry.assured_date,
            Entry.content_hash,
        )
        .join(Entry, Entry.id == Review.entry_pk)
        .where(Review.source_id == source_id, Review.status == ReviewStatus.OPEN)
    ).all()
    closed = 0
    for row in rows:
        reason = caught_up_reason(
            row.present, row.assured_date, row.content_hash, row.assured_at_open, row.hash_at_open
        )
        if reason is None:
            continue
        done = session.execute(
            update(Review)
            .where(Review.id == row.id, Review.status == ReviewStatus.OPEN)
            .values(status=ReviewStatus.CLOSED, closed_at=now, closed_reason=reason)
        )
        if getattr(done, "rowcount", 0):
            audit.record(
                session, None, "review.caught_up", "review", row.id, None, None, note=reason
            )
            closed += 1
    return closed
