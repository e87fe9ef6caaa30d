"""Feed documents kept in the database, rebuilt when the change log grows.

Requests read a stored document; they build one only when it does not exist yet (a
topic combination nobody asked for before), and then store it. ``rebuild_feeds``
brings every stored document, and every one-topic feed, up to the newest change: a
document whose topic no new change touches keeps its bytes (and so its ETag) and only
records that it is up to date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import false, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from publisher.config import Settings, get_settings
from publisher.db import session_scope, utcnow
from publisher.feeds.filters import FeedFilter, FilterError, filter_from_query, single_topic_filters
from publisher.feeds.items import FeedItem, is_published, item_for
from publisher.feeds.render import FORMATS, FeedMeta, render
from publisher.models import Change, ChangeKind, FeedDocument
from publisher.reviews.holds import held_entry_pks, promotes, trusted_entry_pks
from publisher.topics import load_mapping

_BATCH = 2000
_REBUILD_LOCK = 4_0200  # advisory lock key for rebuild_all on PostgreSQL


def document_key(fmt: str, flt: FeedFilter) -> str:
    return f"{fmt}:{flt.query}"


def feed_url(fmt: str, flt: FeedFilter, settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    url = f"{settings.public_base_url}/feeds/changes.{fmt}"
    return f"{url}?{flt.query}" if flt.query else url


def newest_change_id(session: Session) -> int:
    return int(session.scalar(select(func.max(Change.id))) or 0)


def _published_clause() -> Any:
    # Stale snapshots are filtered in Python: JSON paths differ between the databases.
    return or_(
        Change.kind.in_([ChangeKind.ADDED, ChangeKind.REOPENED, ChangeKind.REMOVED]),
        (Change.kind == ChangeKind.UPDATED) & Change.notable.is_(True),
    )


@dataclass
class _Published:
    id: int
    snapshot: dict[str, Any]
    row: Any
    item: FeedItem | None = None


@dataclass
class History:
    """Published changes, newest first, read from the database in batches on demand and
    shared by every feed built in one pass (so 200 feeds read the log once)."""

    session: Session
    upto: int
    settings: Settings
    after: int = 0
    _loaded: list[_Published] = field(default_factory=list)
    _cursor: int | None = None
    _done: bool = False
    _bulletins: list[tuple[dict[str, Any], FeedItem]] | None = None
    held: set[int] = field(default_factory=set, init=False)
    trusted: set[int] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._labels = load_mapping(self.settings.mapping_path).locality_labels
        # Entries whose provider says they have closed are not promoted (issue 9).
        self.held = held_entry_pks(self.session)
        self.trusted = trusted_entry_pks(self.session, self.settings)

    def _load_more(self) -> bool:
        if self._done:
            return False
        query = (
            select(
                Change.id,
                Change.entry_pk,
                Change.kind,
                Change.occurred_at,
                Change.changed_fields,
                Change.details,
                Change.notable,
                Change.snapshot,
            )
            .where(_published_clause(), Change.id <= self.upto, Change.id > self.after)
            .order_by(Change.id.desc())
            .limit(_BATCH)
        )
        if self._cursor is not None:
            query = query.where(Change.id < self._cursor)
        rows = self.session.execute(query).all()
        if len(rows) < _BATCH:
            self._done = True
        if not rows:
            return False
        self._cursor = rows[-1].id
        for row in rows:
            snapshot = row.snapshot if isinstance(row.snapshot, dict) else {}
            if row.entry_pk in self.trusted and snapshot.get("stale"):
                snapshot = {**snapshot, "stale": False}  # confirmed by its provider
            if is_published(row.kind, row.notable, snapshot) and not (
                row.entry_pk in self.held and promotes(row.kind)
            ):
                self._loaded.append(_Published(row.id, snapshot, row))
        return True

    def __iter__(self) -> Iterator[_Published]:
        index = 0
        while True:
            while index < len(self._loaded):
                yield self._loaded[index]
                index += 1
            if not self._load_more():
                return

    def item(self, published: _Published) -> FeedItem:
        if published.item is None:
            row = published.row
            published.item = item_for(
                change_id=row.id,
                kind=row.kind,
                occurred_at=row.occurred_at,
                changed_fields=list(row.changed_fields or []),
                details=row.details if isinstance(row.details, dict) else {},
                snapshot=published.snapshot,
                authority=self.settings.feed_id_authority,
                fallback_link=f"{self.settings.public_base_url}/",
                locality_labels=self._labels,
            )
        return published.item

    def items_for(self, flt: FeedFilter, limit: int) -> list[FeedItem]:
        found: list[FeedItem] = []
        for published in self:
            if flt.matches(published.snapshot):
                found.append(self.item(published))
                if len(found) >= limit:
                    break
        # Bulletins the council wrote (issue 14) are items of their own, by date.
        if self._bulletins is None:
            from publisher.bulletins.feeds import bulletin_items

            self._bulletins = bulletin_items(self.session, self.settings)
        told = [item for snapshot, item in self._bulletins if flt.matches(snapshot)]
        if told:
            found = sorted(found + told, key=lambda i: i.published, reverse=True)[:limit]
        return found


def meta_for(fmt: str, flt: FeedFilter, updated: dt.datetime, settings: Settings) -> FeedMeta:
    council = settings.council_name
    topic = flt.describe()
    title = f"{council} Local Offer news" + ("" if flt.is_all else f": {topic}")
    what = "Services added to, changed on, or taken off"
    description = f"{what} the {council} Local Offer" + (
        "." if flt.is_all else f". Only services for: {topic}."
    )
    return FeedMeta(
        id=f"tag:{settings.feed_id_authority},2026:feed:changes"
        + (f"?{flt.query}" if flt.query else ""),
        title=title,
        description=description,
        self_url=feed_url(fmt, flt, settings),
        home_url=f"{settings.public_base_url}/",
        author=f"{council} Local Offer",
        updated=updated,
        hub_url=settings.websub_hub_url,
    )


# Bump when rendering changes, so that the next rebuild rewrites every stored document.
RENDER_VERSION = "3"  # 2: what changed in words; a stylesheet for browsers
# 3: topics matched as emails match them (an entry naming no need or area is in them all)


def render_signature(
    settings: Settings, held: set[int] | None = None, trusted: set[int] | None = None
) -> str:
    """Everything besides the change log that a document's bytes depend on, including the
    entries held or trusted after their providers' replies (issue 9): a new hold reaches
    the feeds at the next catch-up, without waiting for the change log to move."""
    labels = load_mapping(settings.mapping_path).locality_labels
    parts = [
        RENDER_VERSION,
        settings.council_name,
        settings.public_base_url,
        settings.feed_id_authority,
        settings.websub_hub_url,
        str(settings.feed_max_items),
        repr(sorted(labels.items())),
    ]
    # Added only when there are any, so that documents built before holds existed keep
    # their signature (no needless rebuild of every feed).
    if held:
        parts.append("held:" + ",".join(map(str, sorted(held))))
    if trusted:
        parts.append("trusted:" + ",".join(map(str, sorted(trusted))))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _second(value: dt.datetime) -> dt.datetime:
    # HTTP dates have whole seconds; comparing If-Modified-Since needs the same.
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _render(
    fmt: str, flt: FeedFilter, items: list[FeedItem], settings: Settings, empty_since: dt.datetime
) -> bytes:
    updated = _second(items[0].updated) if items else _second(empty_since)
    return render(fmt, meta_for(fmt, flt, updated, settings), items)


def build_new_document(session: Session, fmt: str, flt: FeedFilter) -> FeedDocument:
    """Build a feed nobody has asked for before, in every format at once (the same items
    serve all three), store them, and return the one asked for."""
    settings = get_settings()
    newest = newest_change_id(session)
    history = History(session, newest, settings)
    existing = set(session.scalars(select(FeedDocument.key).where(FeedDocument.query == flt.query)))
    now = _second(utcnow())
    built = build_missing(history, [flt], existing, newest, now, settings)
    if not flt.is_one_topic:
        for doc in built:
            doc.last_requested_on = now.date()
    session.add_all(built)
    wanted = document_key(fmt, flt)
    found = next((d for d in built if d.key == wanted), None)
    if found is None:  # stored meanwhile by someone else
        found = session.get(FeedDocument, wanted)
        assert found is not None
    return found


@dataclass(frozen=True)
class Stored:
    key: str
    content_type: str
    etag: str
    last_modified: dt.datetime


def ensure_stored(fmt: str, flt: FeedFilter) -> None:
    """Build and store a feed (all formats) if it has never been built: its first request."""
    key = document_key(fmt, flt)
    with session_scope() as session:
        if session.scalar(select(FeedDocument.key).where(FeedDocument.key == key)):
            return
    try:
        with session_scope() as session:
            build_new_document(session, fmt, flt)
    except IntegrityError:
        pass  # another request (or the rebuild task) stored it first: theirs will do


def stored_body(key: str) -> tuple[Stored, bytes] | None:
    """A stored document and its validators; notes that a combination is still read."""
    with session_scope() as session:
        doc = session.get(FeedDocument, key)
        if doc is None:
            return None
        today = utcnow().date()
        if doc.last_requested_on is not None and doc.last_requested_on < today:
            # At most once a day per document (and per process: the memory copy
            # spares the database most reads).
            session.execute(
                update(FeedDocument)
                .where(FeedDocument.key == key, FeedDocument.last_requested_on < today)
                .values(last_requested_on=today)
            )
        return Stored(doc.key, doc.content_type, doc.etag, doc.last_modified), doc.body


@dataclass
class RebuildResult:
    newest_change_id: int
    built: list[str] = field(default_factory=list)  # created
    rewritten: list[str] = field(default_factory=list)  # body changed
    unchanged: int = 0  # brought up to date without new bytes
    # unread for FEED_UNUSED_DAYS, or no longer a valid filter
    dropped: list[str] = field(default_factory=list)


def rebuild_all(session: Session, also: list[FeedFilter] | None = None) -> RebuildResult:
    """Bring every stored feed, every one-topic feed (and ``also``), up to the newest change."""
    settings = get_settings()
    # One rebuild at a time (the crawl's hook and beat can meet): the second waits, then
    # finds everything current.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REBUILD_LOCK})
    else:
        # SQLite: a write that changes nothing takes the database's write lock now,
        # before anything is read, rather than at the first real write.
        session.execute(update(FeedDocument).where(false()).values(built_at=FeedDocument.built_at))
    newest = newest_change_id(session)
    result = RebuildResult(newest)
    now = _second(utcnow())
    # Bodies stay unread: most documents only need their bookkeeping brought up to date.
    docs = {
        d.key: d for d in session.scalars(select(FeedDocument).options(defer(FeedDocument.body)))
    }

    # Every one-topic feed exists from the start, so that the feed directory's links
    # are served from the cache on their first request too.
    history = History(session, newest, settings)
    for doc in build_missing(
        history, [*single_topic_filters(), *(also or [])], set(docs), newest, now, settings
    ):
        session.add(doc)
        docs[doc.key] = doc
        result.built.append(doc.key)

    signature = render_signature(settings, history.held, history.trusted)
    # Combinations nobody has read for a while are dropped rather than kept current.
    unused_since = now.date() - dt.timedelta(days=settings.feed_unused_days)
    keep = {flt.query for flt in also or []}
    for doc in list(docs.values()):
        last = doc.last_requested_on
        if last is not None and last < unused_since and doc.query not in keep:
            session.delete(doc)
            del docs[doc.key]
            result.dropped.append(doc.key)

    behind = [
        d for d in docs.values() if d.built_from_change_id != newest or d.signature != signature
    ]
    if not behind:
        return result
    # Published changes since the oldest document's last build: usually a handful.
    older = [d.built_from_change_id for d in behind if d.built_from_change_id < newest]
    since = min(older) if older else newest
    fresh = list(History(session, newest, settings, after=since))

    by_query: dict[str, list[FeedDocument]] = {}
    for doc in behind:
        by_query.setdefault(doc.query, []).append(doc)
    up_to_date: list[str] = []
    for query, group in by_query.items():
        try:
            flt = filter_from_query(query)
        except FilterError:
            # The council's mapping no longer has this locality: the feed is gone.
            for doc in group:
                session.delete(doc)
                result.dropped.append(doc.key)
            continue
        items: list[FeedItem] | None = None
        for doc in group:
            # A change log that shrank (a source deleted), or new settings, mean a full
            # rebuild of the document.
            shrank = doc.built_from_change_id > newest
            touched = (
                shrank
                or doc.signature != signature
                or any(p.id > doc.built_from_change_id and flt.matches(p.snapshot) for p in fresh)
            )
            if not touched:
                up_to_date.append(doc.key)
                continue
            if items is None:
                items = history.items_for(flt, settings.feed_max_items)
            body = _render(doc.format, flt, items, settings, doc.last_modified)
            etag = etag_for(body)
            doc.built_from_change_id = newest
            doc.built_at = now
            doc.signature = signature
            if etag != doc.etag:
                doc.body = body
                doc.etag = etag
                doc.item_count = len(items)
                # Never earlier than before: clients compare it with If-Modified-Since.
                doc.last_modified = max(now, doc.last_modified + dt.timedelta(seconds=1))
                doc.hub_pending = True
                result.rewritten.append(doc.key)
            else:
                result.unchanged += 1
    if up_to_date:
        for start in range(0, len(up_to_date), 500):
            session.execute(
                update(FeedDocument)
                .where(FeedDocument.key.in_(up_to_date[start : start + 500]))
                .values(built_from_change_id=newest, built_at=now)
            )
        result.unchanged += len(up_to_date)
    return result


def build_missing(
    history: History,
    filters: list[FeedFilter],
    existing: set[str],
    newest: int,
    now: dt.datetime,
    settings: Settings,
) -> list[FeedDocument]:
    """Documents for every format of these filters that is not in ``existing``."""
    built: list[FeedDocument] = []
    signature = render_signature(settings, history.held, history.trusted)
    for flt in dict.fromkeys(filters):
        formats = [fmt for fmt in FORMATS if document_key(fmt, flt) not in existing]
        if not formats:
            continue
        items = history.items_for(flt, settings.feed_max_items)
        for fmt in formats:
            body = _render(fmt, flt, items, settings, now)
            built.append(
                FeedDocument(
                    key=document_key(fmt, flt),
                    format=fmt,
                    query=flt.query,
                    content_type=FORMATS[fmt],
                    body=body,
                    etag=etag_for(body),
                    last_modified=now,
                    built_from_change_id=newest,
                    built_at=now,
                    item_count=len(items),
                    hub_pending=False,
                    signature=signature,
                )
            )
            existing.add(document_key(fmt, flt))
    return built
