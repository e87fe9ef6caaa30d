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
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from publisher.feeds.filters import FeedFilter, FilterError, parse_filter, vocabulary
from publisher.feeds.items import PUBLISHED_KINDS, TITLE_PREFIX
from publisher.insight import memo, tagbits, walks
from publisher.models import InsightCount, InsightTagBit
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


ChangeRow = Row[Any]


@dataclass(frozen=True)
class Page:
    items: list[ChangeRow]
    newer: Cursor | None  # a cursor for the page before (newer changes), if any
    older: Cursor | None  # a cursor for the next page (older changes), if any
    total: int | None  # exact total when known from the counts, else None


def _uk_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), LONDON).astimezone(dt.UTC)


def read_topic_stats(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """Every topic's count of changes, and its bit value if it has one (a few dozen rows,
    one round trip). A topic with no changes has no count row, and is then the rarest:
    its walk finds nothing at once."""
    rows = session.execute(
        select(InsightCount.key, InsightCount.count, InsightTagBit.position)
        .outerjoin(InsightTagBit, InsightTagBit.tag == InsightCount.key)
        .where(InsightCount.metric == "topic", InsightCount.period == "")
    ).tuples()
    totals: dict[str, int] = {}
    bits: dict[str, int] = {}
    for key, count, position in rows:
        totals[key] = count
        if position is not None:
            bits[key] = 1 << position
    return totals, bits


# The counts and bits change only at a refresh, which moves the generation: every page
# built from one generation shares one read of them (a page's cost when built is mostly
# its round trips).
_topic_stats: memo.Memo[tuple[dict[str, int], dict[str, int]]] = memo.Memo(
    seconds=3600, shared=True
)


def topic_stats(session: Session, generation: int) -> tuple[dict[str, int], dict[str, int]]:
    return _topic_stats.get(generation, lambda: read_topic_stats(session))


# Walking the rarest topic's index reads about (page size / the share of its rows that
# match the other topics) index rows per page, each tested by its mask in the index;
# past this many, PostgreSQL's GIN index (which intersects the topics' posting lists,
# then sorts the few matches) is cheaper. Measured with bench/insight/run.py: a walk
# reads about 100,000 rows in the time the GIN index takes for a rare mix.
WALK_LIMIT = 100_000
# A kind chosen with other topics is walked through the kind walk index (topic, kind,
# date) when fewer than this share of changes are of that kind; a commoner kind is found
# as quickly by its bit in the plain walk.
KIND_WALK_SHARE = 0.25


def _walk_cost(tags: list[str], totals: dict[str, int], limit: int, by_kind: bool) -> float:
    """Rows a walk of the rarest topic reads to fill a page, if topics were independent
    (``by_kind``: walking the rarest other topic among the changes of the chosen kind)."""
    everything = max(totals.get("all", 0), 1)
    driver = _driver(tags, totals, by_kind)
    share = 1.0
    for tag in tags:
        if tag != driver and not (by_kind and tag.startswith("kind:")):
            share *= totals.get(tag, 0) / everything
    return (limit + 1) / share if share else float("inf")


def _driver(tags: list[str], totals: dict[str, int], by_kind: bool) -> str:
    """The topic whose index rows the walk reads: the rarest (not the kind, when the walk
    is of one kind's rows)."""
    walked = [t for t in tags if not (by_kind and t.startswith("kind:"))]
    return min(walked, key=lambda t: (totals.get(t, 0), t))


def _plan(
    session: Session, sel: Selection, limit: int, generation: int
) -> tuple[walks.Shape, dict[str, Any], int | None]:
    """The statement's shape, its values, and the total if the counts tell it."""
    tags = sel.tags()
    totals, bits = topic_stats(session, generation)
    total = None
    if not sel.since and not sel.until and len(tags) <= 1:
        total = totals.get(tags[0] if tags else "all", 0)
    # A kind and other topics: walk the kind's rows of the rarest other topic (the kind
    # walk index), unless the kind is so common that its own rows are as quick.
    by_kind = bool(sel.kind) and len(tags) > 1
    if by_kind:
        everything = max(totals.get("all", 0), 1)
        by_kind = totals.get(f"kind:{sel.kind}", 0) / everything < KIND_WALK_SHARE
    params: dict[str, Any] = {}
    if not tags:
        shape = walks.Shape("all")
    elif (
        len(tags) > 1
        and session.get_bind().dialect.name == "postgresql"
        and _walk_cost(tags, totals, limit, by_kind) > WALK_LIMIT
    ):
        # A rare mix: one containment test on the GIN-indexed text[] finds the few
        # matches at once. (A common mix walks the rarest topic's index below: the
        # planner would otherwise read every match from the GIN index and sort them.)
        shape, params["tags"] = walks.Shape("gin"), tags
    else:
        params["driver"] = driver = _driver(tags, totals, by_kind)
        others = [t for t in tags if t != driver]
        if by_kind:
            params["kind"] = sel.kind
            others = [t for t in others if not t.startswith("kind:")]
        want = tagbits.mask_of(bits, others)
        if want:
            params["want"] = want
        # Topics with no bit (past the 63rd): each tested by its own row.
        unbitted = [t for t in others if t not in bits]
        params.update({f"other{n}": t for n, t in enumerate(unbitted)})
        shape = walks.Shape("walk", by_kind, bool(want), len(unbitted))
    if sel.since:
        params["since"] = _uk_midnight(sel.since)
    if sel.until:
        params["until"] = _uk_midnight(sel.until + dt.timedelta(days=1))
    shape = replace(shape, since=bool(sel.since), until=bool(sel.until))
    return shape, params, total


def page_of(
    session: Session,
    sel: Selection,
    *,
    limit: int,
    after: Cursor | None = None,
    before: Cursor | None = None,
    generation: int | None = None,
) -> Page:
    """Newest first. ``after``: changes older than the cursor (the next page);
    ``before``: changes newer than it (the page before). ``generation``: the summaries'
    (``memo.generation``), when the caller has read it already."""
    if generation is None:
        generation = memo.generation(session)
    shape, params, total = _plan(session, sel, limit, generation)
    cursor = before or after
    if cursor is not None:
        shape = replace(shape, page="before" if before is not None else "after")
        params.update(at=cursor.occurred_at, id=cursor.change_id)
    params["limit"] = limit + 1
    rows = list(session.connection().execute(walks.statement(shape), params))
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


def every(session: Session, sel: Selection, batch: int = 1000) -> Iterator[ChangeRow]:
    """The whole selection, newest first, a batch at a time (for downloads)."""
    after: Cursor | None = None
    generation = memo.generation(session)
    while True:
        page = page_of(session, sel, limit=batch, after=after, generation=generation)
        yield from page.items
        if page.older is None:
            return
        after = page.older


def as_record(change: ChangeRow) -> dict[str, Any]:
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
