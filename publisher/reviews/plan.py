"""Who gets asked to check which entries today: pure reading, nothing is written.

One email per contact address a day, listing every entry of theirs that needs checking:
new requests for entries that are stale or will be within ``review_lead_days``, and
reminders ``review_reminder_days`` after the first request. Reminders go first, then
addresses whose entries have gone longest unchecked, up to ``review_daily_limit``
addresses a day (counting those already asked today); the rest wait for tomorrow.

The planner streams rows (yield_per) and keeps only small tuples per entry, so that a
directory of tens of thousands of entries plans in a second or two (bench/reviews).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from publisher.config import Settings, get_settings
from publisher.db import utcnow
from publisher.models import (
    Entry,
    MailKind,
    ReplyKind,
    Review,
    ReviewMail,
    ReviewStatus,
    ReviewSuppression,
    Source,
)
from publisher.reviews.contacts import contact_address
from publisher.uk_time import LONDON

# After a review closes (the officer updated the directory, or dismissed the reply), the
# same entry is not asked about again for this long, even if the directory still says
# it is stale: the provider has just answered, and asking again would be nagging.
REASK_AFTER_DAYS = 90
STREAM_ROWS = 2000


@dataclass(frozen=True)
class PlannedEntry:
    entry_pk: int
    source: str
    entry_id: str
    name: str
    assured_date: dt.date | None
    kind: MailKind
    review_id: int | None = None  # None: a new review opens when the request is sent


@dataclass
class PlannedMail:
    address: str
    entries: list[PlannedEntry]

    @property
    def kind(self) -> str:
        """ "request" if it asks about any entry for the first time, else "reminder"."""
        return "request" if any(e.kind is MailKind.REQUEST for e in self.entries) else "reminder"

    @property
    def sources(self) -> list[str]:
        return sorted({e.source for e in self.entries})

    def as_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "source": ", ".join(self.sources),
            "sources": self.sources,
            "kind": self.kind,
            "entry_ids": [e.entry_id for e in self.entries],
            "entries": [
                {"entry_id": e.entry_id, "source": e.source, "name": e.name, "kind": e.kind.value}
                for e in self.entries
            ],
        }


@dataclass(frozen=True)
class Unreachable:
    entry_pk: int
    source: str
    entry_id: str
    name: str
    # None: no contact address; else the suppressed address.
    address: str | None = None
    reason: str = "no contact address"

    def as_json(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "source": self.source,
            "name": self.name,
            "address": self.address,
            "reason": self.reason,
        }


@dataclass
class Plan:
    today: dt.date
    mails: list[PlannedMail] = field(default_factory=list)
    unreachable: list[Unreachable] = field(default_factory=list)
    # Addresses with work that today's cap leaves for later days.
    deferred_addresses: int = 0
    # Open reviews whose last reminder went unanswered: they become "no reply".
    no_reply_review_ids: list[int] = field(default_factory=list)

    @property
    def entry_count(self) -> int:
        return sum(len(m.entries) for m in self.mails)


def london_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), LONDON).astimezone(dt.UTC)


def plan(
    session: Session,
    *,
    source: str | None = None,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
    entry_pks: list[int] | None = None,
    ignore_limit: bool = False,
) -> Plan:
    """Today's requests and reminders. ``entry_pks``: only these entries (an officer's
    choice from the stale report), whatever their dates; ``ignore_limit``: no daily cap."""
    settings = settings or get_settings()
    now = now or utcnow()
    today = now.astimezone(LONDON).date()
    result = Plan(today=today)
    names = dict(session.execute(select(Source.id, Source.name)).tuples().all())
    source_id = None
    if source is not None:
        source_id = next((sid for sid, name in names.items() if name == source), None)
        if source_id is None:
            raise LookupError(f"there is no source called {source!r}")
    suppressed = dict(
        session.execute(select(ReviewSuppression.address, ReviewSuppression.reason)).tuples().all()
    )

    by_address: dict[str, list[PlannedEntry]] = defaultdict(list)
    open_entries: set[int] = set()
    if entry_pks is None:
        _reminders(session, settings, now, source_id, suppressed, names, by_address, result)
    # An officer's choice overrides the pause after a recent review, not an open one.
    open_entries = _open_or_recent(session, now, recent=entry_pks is None)
    for row, address in _candidates(session, settings, today, source_id, entry_pks):
        if row.id in open_entries:
            continue
        name = names.get(row.source_id, "")
        if address is None or address in suppressed:
            reason = (
                "no contact address" if address is None else _suppressed_reason(suppressed[address])
            )
            result.unreachable.append(
                Unreachable(row.id, name, row.entry_id, row.name, address, reason)
            )
            continue
        by_address[address].append(
            PlannedEntry(row.id, name, row.entry_id, row.name, row.assured_date, MailKind.REQUEST)
        )

    mails = [
        PlannedMail(address, sorted(items, key=_oldest)) for address, items in by_address.items()
    ]
    # Reminders first (they are promised), then the longest unchecked.
    mails.sort(key=lambda m: (m.kind != "reminder", _oldest(m.entries[0]), m.address))
    limit = (
        len(mails)
        if ignore_limit
        else max(0, settings.review_daily_limit - _addresses_asked_today(session, today))
    )
    result.mails = mails[:limit]
    result.deferred_addresses = len(mails) - len(result.mails)
    return result


def _oldest(entry: PlannedEntry) -> tuple[bool, dt.date]:
    # Never-checked entries first, then the oldest check.
    return (entry.assured_date is not None, entry.assured_date or dt.date.min)


def _suppressed_reason(reason: str) -> str:
    return "asked us to stop emailing" if reason == "stop" else "address bounced"


def _addresses_asked_today(session: Session, today: dt.date) -> int:
    return int(
        session.scalar(
            select(func.count(func.distinct(ReviewMail.address))).where(
                ReviewMail.created_at >= london_day_start(today)
            )
        )
        or 0
    )


def _open_or_recent(session: Session, now: dt.datetime, *, recent: bool = True) -> set[int]:
    """Entries with an open review, or (``recent``) one closed too recently to ask again."""
    since = now - dt.timedelta(days=REASK_AFTER_DAYS)
    busy = Review.status == ReviewStatus.OPEN
    return set(
        session.scalars(
            select(Review.entry_pk).where(or_(busy, Review.closed_at >= since) if recent else busy)
        )
    )


def _candidates(
    session: Session,
    settings: Settings,
    today: dt.date,
    source_id: int | None,
    entry_pks: list[int] | None,
) -> Iterator[tuple[Any, str | None]]:
    """(entry row, contact address) for each present entry that needs checking.

    Two streamed passes: entries with their own email need no raw record; only those
    without one have theirs read, for a contact's or the organisation's address."""
    # Stale when (today - assured).days > stale_after_days; within the lead time when
    # that holds review_lead_days from now.
    cutoff = today + dt.timedelta(days=settings.review_lead_days - settings.stale_after_days)
    t = Entry.__table__.c
    base: list[ColumnElement[bool]] = [t.present.is_(True)]
    if entry_pks is not None:
        base.append(t.id.in_(entry_pks))
    else:
        base.append(or_(t.assured_date.is_(None), t.assured_date < cutoff, t.stale.is_(True)))
    if source_id is not None:
        base.append(t.source_id == source_id)
    cols = (t.id, t.source_id, t.entry_id, t.name, t.assured_date)
    conn = session.connection()
    # Options on the statement, not the connection: Connection.execution_options would
    # leave the session's connection on server-side cursors for everything after.
    with_email = conn.execute(
        select(*cols, t.email)
        .where(*base, t.email.is_not(None))
        .order_by(t.id)
        .execution_options(yield_per=STREAM_ROWS)
    )
    for row in with_email:
        yield row, contact_address(row.email, None)
    without = conn.execute(
        select(*cols, t.record)
        .where(*base, t.email.is_(None))
        .order_by(t.id)
        .execution_options(yield_per=STREAM_ROWS)
    )
    for row in without:
        yield row, contact_address(None, row.record)


def _reminders(
    session: Session,
    settings: Settings,
    now: dt.datetime,
    source_id: int | None,
    suppressed: dict[str, str],
    names: dict[int, str],
    by_address: dict[str, list[PlannedEntry]],
    result: Plan,
) -> None:
    """Reminders due on open, unanswered reviews; and reviews now past "no reply"."""
    # From the ledger, not from Review.first_sent_at: the ledger's "sent" mark is the one
    # made at the hand-over, so it is right even if a worker died just after it.
    sent = (
        select(
            ReviewMail.review_id,
            func.count().label("mails"),
            func.min(ReviewMail.sent_at).label("first_sent"),
        )
        .group_by(ReviewMail.review_id)
        .subquery()
    )
    query = (
        select(
            Review.id,
            Review.entry_pk,
            Review.entry_id,
            Review.source_id,
            Review.address,
            Entry.name,
            Entry.assured_date,
            sent.c.mails,
            sent.c.first_sent,
        )
        .join(Entry, Entry.id == Review.entry_pk)
        .join(sent, sent.c.review_id == Review.id)
        .where(
            Review.status == ReviewStatus.OPEN,
            Review.reply == ReplyKind.NONE,
            Review.undeliverable.is_(None),
            sent.c.first_sent.is_not(None),
        )
    )
    if source_id is not None:
        query = query.where(Review.source_id == source_id)
    kinds = [MailKind.REMINDER_1, MailKind.REMINDER_2]
    steps = settings.review_reminder_days
    for row in session.execute(query.execution_options(yield_per=STREAM_ROWS)):
        age = now - _aware(row.first_sent)
        if age >= dt.timedelta(days=settings.review_no_reply_days):
            result.no_reply_review_ids.append(row.id)
            continue
        done = row.mails - 1  # reminders already sent
        if done >= len(steps) or age < dt.timedelta(days=steps[done]):
            continue
        if row.address is None or row.address in suppressed:
            continue
        by_address[row.address].append(
            PlannedEntry(
                row.entry_pk,
                names.get(row.source_id, ""),
                row.entry_id,
                row.name,
                row.assured_date,
                kinds[done],
                row.id,
            )
        )


def _aware(value: dt.datetime) -> dt.datetime:
    # An aggregate (MIN) skips the column type: SQLite hands back naive UTC text.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
