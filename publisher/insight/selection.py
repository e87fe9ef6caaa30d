"""Which changes a reader asked for, and the page of them to show.

The same rules as the feeds (``publisher.feeds``: published changes only, one value per
topic, unknown values refused with the valid ones), plus a kind, a date range (UK dates)
and a cursor. Pages walk an index in date order from the cursor (keyset pagination), so
page 1,000 costs what page 1 costs; with several filters the walk starts from the
rarest one (topic totals are kept in ``insight_counts``) and tests the others against
the topic mask stored in the same index row (``publisher.insight.tagbits``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import BigInteger, Integer, String, exists, literal, select, tuple_, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from publisher.db import UTCDateTime
from publisher.feeds.filters import FeedFilter, FilterError, parse_filter, vocabulary
from publisher.feeds.items import PUBLISHED_KINDS, TITLE_PREFIX
from publisher.insight import tagbits
from publisher.models import InsightChange, InsightChangeTopic, InsightCount, InsightTagBit
from publisher.uk_time import LONDON

KINDS: dict[str, str] = {
    k.value: TITLE_PREFIX[k] for k in sorted(PUBLISHED_KINDS, key=lambda k: k.value)
}
DATE_PARAMS = ("from", "to")
MAX_LIMIT = 200
_CURSOR = re.compile(r"^(\d{1,17})\.(\d{1,12})$")
_ECHO = 40


@dataclass(frozen=True)
class Cursor:
    occurred_at: dt.datetime
    change_id: int

    def token(self) -> str:
        micros = round(self.occurred_at.timestamp() * 1_000_000)
        return f"{micros}.{self.change_id}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        found = _CURSOR.match(token)
        if not found:
            raise FilterError("Unknown cursor: use the next_cursor value of an answer, unchanged.")
        at = dt.datetime.fromtimestamp(int(found.group(1)) / 1_000_000, dt.UTC)
        return cls(at, int(found.group(2)))


@dataclass(frozen=True)
class Selection:
    topics: FeedFilter = field(default_factory=FeedFilter)
    kind: str | None = None
    since: dt.date | None = None  # "from", inclusive
    until: dt.date | None = None  # "to", inclusive

    def pairs(self) -> list[tuple[str, str]]:
        found = self.topics.pairs()
        if self.kind:
            found.append(("kind", self.kind))
        if self.since:
            found.append(("from", self.since.isoformat()))
        if self.until:
            found.append(("to", self.until.isoformat()))
        return found

    @property
    def query(self) -> str:
        return urlencode(self.pairs())

    def tags(self) -> list[str]:
        found = [f"{name}:{value}" for name, value in self.topics.pairs()]
        if self.kind:
            found.append(f"kind:{self.kind}")
        return found

    def describe(self, vocab: dict[str, dict[str, str]] | None = None) -> str:
        parts = [] if self.topics.is_all else [self.topics.describe(vocab)]
        if self.kind:
            parts.append(KINDS[self.kind].lower())
        if self.since:
            parts.append(f"from {self.since.strftime('%-d %B %Y')}")
        if self.until:
            parts.append(f"to {self.until.strftime('%-d %B %Y')}")
        return ", ".join(parts) if parts else "All changes"


def valid_values() -> dict[str, Any]:
    vocab = vocabulary()
    return {
        **{name: list(values) for name, values in vocab.items()},
        "kind": list(KINDS),
        "from": "a date as YYYY-MM-DD",
        "to": "a date as YYYY-MM-DD, not before from",
    }


def _date(name: str, raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        shown = repr(raw[:_ECHO]) if raw else "an empty value"
        raise FilterError(f"Unknown {name}: {shown}. Give a date as YYYY-MM-DD.") from None


def parse_selection(args: Iterable[tuple[str, str]]) -> Selection:
    """Topics (as feeds), kind, from and to; other names are ignored. Empty values (a form
    sent with "any" chosen) mean "no filter". Raises FilterError naming the valid values."""
    topic_pairs: list[tuple[str, str]] = []
    chosen: dict[str, str] = {}
    for name, raw in args:
        value = raw.strip()
        if name not in ("age", "need", "category", "locality", "kind", *DATE_PARAMS):
            continue
        if not value:
            continue
        if name in chosen:
            raise FilterError(f"Give only one {name} value.")
        chosen[name] = value
        if name in ("age", "need", "category", "locality"):
            topic_pairs.append((name, value))
    topics = parse_filter(topic_pairs)
    kind = chosen.get("kind")
    if kind is not None and kind not in KINDS:
        raise FilterError(
            f"Unknown kind: {kind[:_ECHO]!r}. Valid kind values are: {', '.join(KINDS)}."
        )
    since = _date("from", chosen["from"]) if "from" in chosen else None
    until = _date("to", chosen["to"]) if "to" in chosen else None
    if since and until and since > until:
        raise FilterError("The from date is after the to date: swap them round.")
    return Selection(topics=topics, kind=kind, since=since, until=until)


def parse_limit(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise FilterError(f"Unknown limit: give a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


@dataclass(frozen=True)
class Page:
    items: list[InsightChange]
    newer: Cursor | None  # a cursor for the page before (newer changes), if any
    older: Cursor | None  # a cursor for the next page (older changes), if any
    total: int | None  # exact total when known from the counts, else None


def _uk_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), LONDON).astimezone(dt.UTC)


def totals_and_bits(session: Session, tags: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Each topic's count of changes, and its bit value if it has one, in one round trip
    (a page's cost when built is mostly its round trips). A topic with no changes has
    no count row, and is then the rarest: its walk finds nothing at once."""
    rows = session.execute(
        select(InsightCount.key, InsightCount.count, InsightTagBit.position)
        .outerjoin(InsightTagBit, InsightTagBit.tag == InsightCount.key)
        .where(
            InsightCount.metric == "topic", InsightCount.period == "", InsightCount.key.in_(tags)
        )
    ).tuples()
    totals: dict[str, int] = {}
    bits: dict[str, int] = {}
    for key, count, position in rows:
        totals[key] = count
        if position is not None:
            bits[key] = 1 << position
    return totals, bits


# Walking the rarest topic's index reads about (page size / the share of its rows that
# match the other topics) index rows per page, each tested by its mask in the index;
# past this many, PostgreSQL's GIN index (which intersects the topics' posting lists,
# then sorts the few matches) is cheaper. Measured with bench/insight/run.py: a walk
# reads about 100,000 rows in the time the GIN index takes for a rare mix.
WALK_LIMIT = 100_000


def _walk_cost(tags: list[str], totals: dict[str, int], limit: int) -> float:
    """Rows a walk of the rarest topic reads to fill a page, if topics were independent."""
    everything = max(totals.get("all", 0), 1)
    driver = min(tags, key=lambda t: totals.get(t, 0))
    share = 1.0
    for tag in tags:
        if tag != driver:
            share *= totals.get(tag, 0) / everything
    return (limit + 1) / share if share else float("inf")


def _statement(
    session: Session, sel: Selection, limit: int = 20
) -> tuple[Any, Any, Any, int | None]:
    """The select, its order columns, and the total if the counts tell it."""
    tags = sel.tags()
    totals, bits = totals_and_bits(session, [*tags, "all"])
    total = None
    if not sel.since and not sel.until and len(tags) <= 1:
        total = totals.get(tags[0] if tags else "all", 0)
    if not tags:
        stmt = select(InsightChange)
        occurred, change_id = InsightChange.occurred_at, InsightChange.change_id
    elif (
        len(tags) > 1
        and session.get_bind().dialect.name == "postgresql"
        and _walk_cost(tags, totals, limit) > WALK_LIMIT
    ):
        # A rare mix: one containment test on the GIN-indexed text[] finds the few
        # matches at once. (A common mix walks the rarest topic's index below: the
        # planner would otherwise read every match from the GIN index and sort them.)
        as_array = type_coerce(InsightChange.tags, ARRAY(String(120)))
        stmt = select(InsightChange).where(as_array.contains(tags))
        occurred, change_id = InsightChange.occurred_at, InsightChange.change_id
    else:
        driver = min(tags, key=lambda t: (totals.get(t, 0), t))
        walk = aliased(InsightChangeTopic)
        stmt = select(InsightChange).join(walk, walk.change_id == InsightChange.change_id)
        stmt = stmt.where(walk.topic == driver)
        occurred, change_id = walk.occurred_at, walk.change_id
        others = [t for t in tags if t != driver]
        want = tagbits.mask_of(bits, others)
        if want:
            as_bits = literal(want, BigInteger())
            stmt = stmt.where(walk.mask.op("&")(as_bits) == as_bits)
        for other in others:
            if other in bits:
                continue
            # A topic with no bit (past the 63rd): tested by its own row.
            check = aliased(InsightChangeTopic)
            stmt = stmt.where(
                exists().where(check.change_id == InsightChange.change_id, check.topic == other)
            )
    if sel.since:
        stmt = stmt.where(occurred >= _uk_midnight(sel.since))
    if sel.until:
        stmt = stmt.where(occurred < _uk_midnight(sel.until + dt.timedelta(days=1)))
    return stmt, occurred, change_id, total


def _bound(cursor: Cursor) -> Any:
    # Typed binds: SQLite stores naive UTC, and UTCDateTime converts on the way in.
    return tuple_(literal(cursor.occurred_at, UTCDateTime()), literal(cursor.change_id, Integer()))


def page_of(
    session: Session,
    sel: Selection,
    *,
    limit: int,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> Page:
    """Newest first. ``after``: changes older than the cursor (the next page);
    ``before``: changes newer than it (the page before)."""
    stmt, occurred, change_id, total = _statement(session, sel, limit)
    key = tuple_(occurred, change_id)
    if before is not None:
        stmt = stmt.where(key > _bound(before))
        stmt = stmt.order_by(occurred.asc(), change_id.asc())
    else:
        if after is not None:
            stmt = stmt.where(key < _bound(after))
        stmt = stmt.order_by(occurred.desc(), change_id.desc())
    rows = list(session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if before is not None:
        rows.reverse()
    first = Cursor(rows[0].occurred_at, rows[0].change_id) if rows else None
    last = Cursor(rows[-1].occurred_at, rows[-1].change_id) if rows else None
    if before is not None:
        newer, older = (first if more else None), last
    else:
        newer, older = (first if after is not None else None), (last if more else None)
    return Page(items=rows, newer=newer, older=older, total=total)


def every(session: Session, sel: Selection, batch: int = 1000) -> Iterator[InsightChange]:
    """The whole selection, newest first, a batch at a time (for downloads)."""
    after: Cursor | None = None
    while True:
        page = page_of(session, sel, limit=batch, after=after)
        yield from page.items
        session.expunge_all()
        if page.older is None:
            return
        after = page.older


def as_record(change: InsightChange) -> dict[str, Any]:
    """One change as open data: the JSON and CSV columns."""
    topics = change.topics or {}
    return {
        "id": change.change_id,
        "occurred_at": change.occurred_at.isoformat().replace("+00:00", "Z"),
        "kind": change.kind,
        "title": change.title,
        "summary": change.summary,
        "link": change.link,
        "source": change.source,
        "entry_id": change.entry_id,
        "age_bands": list(topics.get("age_bands") or []),
        "needs": list(topics.get("needs") or []),
        "categories": list(topics.get("categories") or []),
        "localities": list(topics.get("localities") or []),
    }
