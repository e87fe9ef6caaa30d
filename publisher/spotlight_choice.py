"""Which existing service to feature next (issue 14): a social spotlight post and the
monthly edition's "Did you know?" section both ask here, so neither output imports the
other. Active, checked within the stale limit, not featured in the last REST_DAYS days;
age bands taken in turn (16-25 included), the least recently featured category first.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.config import get_settings
from publisher.models import Entry, Post, Source
from publisher.topics import AGE_BAND_LABELS

KIND = "spotlight"  # the kind of a spotlight post
BANDS = tuple(AGE_BAND_LABELS)  # 0-5, 5-11, 11-16, 16-25
REST_DAYS = 90


def _recent_spotlights(session: Session, since: dt.datetime) -> list[Post]:
    return list(
        session.scalars(
            select(Post)
            .where(Post.kind == KIND, Post.created_at >= since)
            .order_by(Post.created_at.desc(), Post.id.desc())
        )
    )


def candidates(session: Session, now: dt.datetime) -> list[tuple[Entry, Source]]:
    """Entries a spotlight may be about: present, active, checked within the limit."""
    settings = get_settings()
    checked_since = (now - dt.timedelta(days=settings.stale_after_days)).date()
    rows = session.execute(
        select(Entry, Source)
        .join(Source, Source.id == Entry.source_id)
        .where(
            Entry.present.is_(True),
            Entry.stale.is_(False),
            func.lower(Entry.status) == "active",
            Entry.assured_date.is_not(None),
            Entry.assured_date >= checked_since,
        )
        .order_by(Entry.id)
    ).all()
    return [(e, s) for e, s in rows]


def choose(session: Session, now: dt.datetime) -> tuple[Entry, Source, str] | None:
    """The next entry in turn, and the band it is chosen for."""
    recent = _recent_spotlights(session, now - dt.timedelta(days=REST_DAYS))
    resting = {ref.get("entry_pk") for p in recent for ref in (p.entry_refs or [])}
    pool = [(e, s) for e, s in candidates(session, now) if e.id not in resting]
    if not pool:
        return None
    last_band = next((ref.get("band") for p in recent for ref in (p.entry_refs or [])), None)
    start = (BANDS.index(last_band) + 1) % len(BANDS) if last_band in BANDS else 0
    # When each category was last spotlighted (never: first).
    last_used: dict[str, dt.datetime] = {}
    for p in reversed(recent):
        for ref in p.entry_refs or []:
            for category in ref.get("categories") or []:
                last_used[category] = p.created_at
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    for step in range(len(BANDS)):
        band = BANDS[(start + step) % len(BANDS)]
        in_band = [(e, s) for e, s in pool if band in (e.age_bands or [])]
        if not in_band:
            continue

        def freshness(pair: tuple[Entry, Source]) -> tuple[dt.datetime, int]:
            cats = pair[0].categories or [""]
            return (max(last_used.get(c, never) for c in cats), pair[0].id)

        entry, source = min(in_band, key=freshness)
        return entry, source, band
    return None
