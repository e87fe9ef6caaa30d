"""The stale entries report: which entries need checking, and how staleness changed over time.

The chart's series comes from the change log rather than a table of daily counts. Every
Change carries a snapshot of its entry after the change (``present`` and ``stale`` among
it), so an entry's state on any day is the snapshot of its last change on or before that
day. That gives history from the first crawl onwards, with no daily job to run or miss.
An entry with no change at all counts from its ``first_seen_at`` with its current state.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.changes import page_url
from publisher.models import Change, ChangeKind, Entry, Source
from publisher.uk_time import LONDON


@dataclass(frozen=True)
class StaleEntry:
    entry_pk: int
    source: str
    entry_id: str
    name: str
    assured_date: dt.date | None
    organisation: str | None
    email: str | None
    link: str | None
    days_since_assured: int | None
    # When it went stale: from the change log when the log says (a became_stale change,
    # or the first change whose snapshot was stale), else worked out from the assured
    # date (or, never checked, from when it was first seen). ``since_from_log`` tells which.
    stale_since: dt.datetime | None = None
    since_from_log: bool = True
    # Provider review (issue 9): where it stands, in words ("Asked on ...", "No reply").
    review: str | None = None


@dataclass(frozen=True)
class Point:
    """Counts at the end of one period (a week ending on ``day``)."""

    day: dt.date
    active: int
    stale: int


def _logged_since(session: Session, entry_pks: list[int]) -> dict[int, dt.datetime]:
    """When the log shows each entry going stale: the start of its last run of stale
    snapshots (a became_stale change, or an added or updated one that was already stale)."""
    found: dict[int, dt.datetime] = {}
    if not entry_pks:
        return found
    rows = session.execute(
        select(Change.entry_pk, Change.occurred_at, Change.snapshot["stale"].as_boolean())
        .where(Change.entry_pk.in_(entry_pks))
        .order_by(Change.entry_pk, Change.occurred_at, Change.id)
    )
    for entry_pk, at, is_stale in rows:
        if is_stale:
            found.setdefault(entry_pk, at)
        else:
            found.pop(entry_pk, None)
    return found


def _worked_out_since(entry: Entry, stale_after_days: int) -> dt.datetime:
    """The day after the assured date plus the limit (start of that day, UK time); an
    entry never checked has been stale since it was first seen."""
    if entry.assured_date is None:
        return entry.first_seen_at
    day = entry.assured_date + dt.timedelta(days=stale_after_days + 1)
    worked_out = dt.datetime.combine(day, dt.time(), LONDON).astimezone(dt.UTC)
    # Stale before the limit says it should be (the limit was lowered since): then it
    # has been stale as long as we have known it.
    return worked_out if worked_out <= dt.datetime.now(dt.UTC) else entry.first_seen_at


def stale_entries(
    session: Session, today: dt.date | None = None, stale_after_days: int | None = None
) -> list[StaleEntry]:
    """Present, stale entries, the longest unchecked first (never-checked ones at the top)."""
    from publisher.config import get_settings

    today = today or dt.datetime.now(LONDON).date()
    limit = get_settings().stale_after_days if stale_after_days is None else stale_after_days
    rows = session.execute(
        select(Entry, Source)
        .join(Source, Source.id == Entry.source_id)
        .where(Entry.present.is_(True), Entry.stale.is_(True))
    ).all()
    since = dict(
        session.execute(
            select(Change.entry_pk, func.max(Change.occurred_at))
            .where(Change.kind == ChangeKind.BECAME_STALE)
            .group_by(Change.entry_pk)
        )
        .tuples()
        .all()
    )
    from publisher.reviews.contacts import contact_address
    from publisher.reviews.measures import review_states, suppressed_addresses

    reviews = review_states(session)
    logged = _logged_since(session, [entry.id for entry, _ in rows])
    for entry, _ in rows:
        if entry.id in since:
            logged[entry.id] = since[entry.id]
    suppressed = suppressed_addresses(session)

    def review_of(entry: Entry) -> str | None:
        """Where the provider review stands; else why the provider cannot be asked."""
        if entry.id in reviews:
            return reviews[entry.id]
        address = contact_address(entry.email, entry.record)
        if address is None:
            return "No contact address: find one for this provider"
        if address in suppressed:
            return suppressed[address]
        return None

    result = [
        StaleEntry(
            entry_pk=entry.id,
            source=source.name,
            entry_id=entry.entry_id,
            name=entry.name,
            assured_date=entry.assured_date,
            organisation=entry.organisation,
            email=entry.email,
            link=page_url(source, entry.entry_id, entry.url),
            days_since_assured=(today - entry.assured_date).days if entry.assured_date else None,
            stale_since=logged.get(entry.id) or _worked_out_since(entry, limit),
            since_from_log=entry.id in logged,
            review=review_of(entry),
        )
        for entry, source in rows
    ]
    result.sort(key=lambda e: (e.assured_date is not None, e.assured_date or dt.date.min, e.name))
    return result


def stale_csv(entries: Iterable[StaleEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "name",
            "source",
            "entry id",
            "last checked",
            "days since checked",
            "organisation",
            "email",
            "link",
            "stale since",
        ]
    )
    for e in entries:
        writer.writerow(
            [
                _cell(e.name),
                _cell(e.source),
                _cell(e.entry_id),
                e.assured_date.isoformat() if e.assured_date else "",
                "" if e.days_since_assured is None else e.days_since_assured,
                _cell(e.organisation or ""),
                _cell(e.email or ""),
                _cell(e.link or ""),
                e.stale_since.astimezone(LONDON).date().isoformat() if e.stale_since else "",
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    """Stop spreadsheet formula injection: text from a directory must never run as a formula."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def history(session: Session, weeks: int = 12, today: dt.date | None = None) -> list[Point]:
    """Active and stale entries at the end of each of the last ``weeks`` weeks (UK dates).

    The last point is today. Removed entries count in neither series.
    """
    today = today or dt.datetime.now(LONDON).date()
    days = [today - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    # End of each day in UK time, as UTC instants to compare with stored times.
    ends = [
        dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), LONDON).astimezone(dt.UTC)
        for d in days
    ]
    # Per entry: times of its state changes, and the (present, stale) state after each.
    times: dict[int, list[dt.datetime]] = defaultdict(list)
    states: dict[int, list[tuple[bool, bool]]] = defaultdict(list)
    rows = session.execute(
        select(
            Change.entry_pk,
            Change.occurred_at,
            Change.snapshot["present"].as_boolean(),
            Change.snapshot["stale"].as_boolean(),
        ).order_by(Change.entry_pk, Change.occurred_at, Change.id)
    )
    for entry_pk, at, present, stale in rows:
        times[entry_pk].append(at)
        states[entry_pk].append((present is not False, bool(stale)))
    for entry in session.execute(select(Entry.id, Entry.first_seen_at, Entry.present, Entry.stale)):
        if entry.id not in times:
            times[entry.id].append(entry.first_seen_at)
            states[entry.id].append((bool(entry.present), bool(entry.stale)))
        elif entry.first_seen_at < times[entry.id][0]:
            # Seen before its first logged change (say, in the first crawl): it was then
            # present and fresh, or its first change would have said otherwise.
            times[entry.id].insert(0, entry.first_seen_at)
            states[entry.id].insert(0, (True, False))
    points = []
    for day, end in zip(days, ends, strict=True):
        active = stale = 0
        for entry_pk, stamps in times.items():
            i = bisect.bisect_left(stamps, end) - 1
            if i < 0:
                continue
            present, is_stale = states[entry_pk][i]
            if not present:
                continue
            if is_stale:
                stale += 1
            else:
                active += 1
        points.append(Point(day=day, active=active, stale=stale))
    return points
