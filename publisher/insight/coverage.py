"""Freshness and coverage counts kept by difference, entry by entry.

Counting every entry's topics after each crawl costs over a second at 50,000 entries on
a busy machine. Instead each entry's contribution is kept (``InsightEntry``: the count
keys it adds while present, and while also checked in the last 12 months), and the
counts (``insight_counts``, metric "cell") move by the difference for the entries a
crawl touched: those with changes since the last refresh, and entries new since then
(a first crawl announces nothing, so its entries have no changes). Entries whose last
check passes 12 months old leave the "checked" counts in a daily sweep (an index on
``counted, checked_until`` finds them).

Keys: "f:active", "f:stale", "f:checked" (freshness); "g:<need>|<age>" (the need by age
grid, "none" for an empty list); "p:<locality>"; "s:<dimension>:<slug>" (supply).
After ``publisher topics remap`` run ``publisher insight rebuild``: a remap changes
topics without logging changes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from publisher.db import Base
from publisher.insight import store
from publisher.models import Change, Entry, InsightCount, InsightEntry

CHECKED_WITHIN_DAYS = 365
_MIRROR = Base.metadata.tables["insight_entries"]
BATCH = 5000


def _slugs(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v)[:100] for v in value if isinstance(v, str) and v]


def contribution(
    present: bool,
    stale: bool,
    assured: dt.date | None,
    ages: Any,
    needs: Any,
    categories: Any,
    places: Any,
) -> tuple[list[str], list[str], dt.date | None]:
    """(keys while present, keys while also checked, last day it counts as checked)."""
    if not present:
        return [], [], None
    present_keys = ["f:active", *(["f:stale"] if stale else [])]
    until = assured + dt.timedelta(days=CHECKED_WITHIN_DAYS) if assured else None
    if until is None:
        return present_keys, [], None
    age_list, need_list, place_list = _slugs(ages), _slugs(needs), _slugs(places)
    checked = ["f:checked"]
    checked += [f"g:{n}|{a}" for n in need_list or ["none"] for a in age_list or ["none"]]
    checked += [f"p:{p}" for p in place_list or ["none"]]
    for prefix, values in (
        ("age", age_list),
        ("need", need_list),
        ("category", _slugs(categories)),
        ("locality", place_list),
    ):
        checked += [f"s:{prefix}:{v}" for v in values]
    return present_keys, list(dict.fromkeys(checked)), until


def _apply(session: Session, pks: list[int], day: dt.date) -> None:
    delta: Counter[str] = Counter()
    old = {
        row.entry_pk: row
        for row in session.execute(select(_MIRROR).where(_MIRROR.c.entry_pk.in_(pks)))
    }
    rows = []
    for e in session.execute(
        select(
            Entry.id,
            Entry.present,
            Entry.stale,
            Entry.assured_date,
            Entry.age_bands,
            Entry.needs,
            Entry.categories,
            Entry.localities,
        ).where(Entry.id.in_(pks))
    ):
        present_keys, checked_keys, until = contribution(
            bool(e.present),
            bool(e.stale),
            e.assured_date,
            e.age_bands,
            e.needs,
            e.categories,
            e.localities,
        )
        counted = bool(checked_keys) and until is not None and until >= day
        delta.update(present_keys)
        if counted:
            delta.update(checked_keys)
        rows.append(
            {
                "entry_pk": e.id,
                "present_keys": present_keys,
                "checked_keys": checked_keys,
                "checked_until": until,
                "counted": counted,
            }
        )
    for row in old.values():
        delta.subtract(row.present_keys or [])
        if row.counted:
            delta.subtract(row.checked_keys or [])
    if old:
        session.execute(delete(_MIRROR).where(_MIRROR.c.entry_pk.in_(list(old))))
    if rows:
        session.execute(insert(_MIRROR), rows)
    store.add_counts(session, {("cell", "", k): n for k, n in delta.items() if n})


def _age_out(session: Session, day: dt.date) -> None:
    """Entries whose last check is now more than 12 months old leave the checked counts."""
    delta: Counter[str] = Counter()
    aged = session.execute(
        select(_MIRROR.c.entry_pk, _MIRROR.c.checked_keys).where(
            _MIRROR.c.counted.is_(True), _MIRROR.c.checked_until < day
        )
    ).all()
    for _, keys in aged:
        delta.subtract(keys or [])
    if aged:
        session.execute(
            update(_MIRROR)
            .where(_MIRROR.c.entry_pk.in_([pk for pk, _ in aged]))
            .values(counted=False)
        )
        store.add_counts(session, {("cell", "", k): n for k, n in delta.items() if n})


def keep_current(session: Session, day: dt.date) -> dict[str, int]:
    """Bring the counts up to date; returns them (key -> count, zeros left out)."""
    since = store.watermark(session, "entries")
    newest = session.scalar(select(func.max(Change.id))) or 0
    touched = set(
        session.scalars(
            select(Change.entry_pk).where(Change.id > since, Change.id <= newest).distinct()
        )
    )
    mirrored = session.scalar(select(func.max(InsightEntry.entry_pk))) or 0
    touched.update(session.scalars(select(Entry.id).where(Entry.id > mirrored)))
    ordered = sorted(touched)
    for start in range(0, len(ordered), BATCH):
        _apply(session, ordered[start : start + BATCH], day)
    _age_out(session, day)
    store.set_watermark(session, "entries", newest)
    return {
        key: count
        for key, count in session.execute(
            select(InsightCount.key, InsightCount.count).where(
                InsightCount.metric == "cell", InsightCount.period == ""
            )
        ).tuples()
        if count
    }


def start_again(session: Session) -> None:
    """Forget every contribution (rebuild): the next ``keep_current`` counts all entries."""
    session.execute(delete(_MIRROR))
    session.execute(delete(InsightCount).where(InsightCount.metric == "cell"))
    store.set_watermark(session, "entries", 0)
