"""Crawl a source and turn what changed into change-log rows.

The order matters for trust:
1. Take the source's lease, so two crawls of one source never overlap.
2. Read every record (API pages or file) without touching the entries. Records that
   fail validation are set aside for the quarantine; valid ones that may have changed
   are normalised. Unchanged ones cost a hash and a dictionary look-up.
3. Only when the read was complete, apply everything in one short transaction:
   entries, change events, absences, staleness, quarantine. A failed or suspicious read
   (errors after retries, bad JSON, fewer items than the directory declared, an empty
   feed where there were entries) is recorded as incomplete and changes nothing else.
4. After the commit, tell the newsletter, feed and social areas that there is work.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from publisher.changes import (
    CLOSED_STATUSES,
    diff_fields,
    is_notable,
    is_stale,
    jsonable,
    snapshot_of,
)
from publisher.config import Settings, get_settings
from publisher.db import session_scope, utcnow
from publisher.models import (
    Change,
    ChangeKind,
    Crawl,
    CrawlStatus,
    Entry,
    QuarantinedRecord,
    Source,
    SourceKind,
)
from publisher.sources.client import ClientPolicy, HttpClient
from publisher.sources.reader import ApiReader, FileReader, ReadResult, SourceError
from publisher.sources.records import (
    NormalisedRecord,
    RecordError,
    digest,
    is_summary,
    list_stamp,
    normalise,
    record_key,
    without_nul,
)
from publisher.topics import Mapping, load_mapping, topics_of

log = logging.getLogger(__name__)

COUNT_KEYS = ("added", "updated", "removed", "reopened", "stale", "unchanged", "quarantined")
# Tasks other areas implement (see their publisher/tasks/<area>.py); sent by name so
# that the crawl does not import them.
DOWNSTREAM_TASKS: tuple[tuple[str, bool], ...] = (
    ("publisher.feeds.rebuild_feeds", False),
    ("publisher.newsletters.changes_arrived", True),
    ("publisher.social.draft_posts", True),
)


class CrawlBusy(Exception):
    """Another crawl of this source holds the lease."""


class UnknownSource(LookupError):
    pass


class Reader(Protocol):
    result: ReadResult

    def records(self) -> Iterable[tuple[Any, bool]]: ...

    def detail(self, entry_id: str) -> Any: ...


@dataclass
class CrawlSummary:
    source: str
    crawl_id: int
    status: str
    baseline: bool
    counts: dict[str, int]
    error: str | None = None
    requests_made: int = 0
    rows_written: int = 0
    change_ids: list[int] = field(default_factory=list)

    def line(self) -> str:
        counts = ", ".join(f"{k} {self.counts.get(k, 0)}" for k in COUNT_KEYS)
        head = f"{self.source}: crawl {self.crawl_id} {self.status}"
        if self.baseline:
            head += " (baseline: recorded, nothing announced)"
        tail = f"; error: {self.error}" if self.error else ""
        return f"{head}: {counts}{tail}"


# --- sources -------------------------------------------------------------------


def looks_like_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def add_source(
    session: Session, name: str, location: str, page_url_template: str | None = None
) -> Source:
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("a source name must be 1 to 100 characters")
    if session.scalar(select(Source).where(Source.name == name)) is not None:
        raise ValueError(f"there is already a source called {name!r}")
    if looks_like_url(location):
        kind = SourceKind.ORUK_API
        location = location.rstrip("/")
    else:
        path = Path(location).expanduser()
        if not path.is_file():
            raise ValueError(f"{location} is neither an http(s) URL nor a file that exists")
        kind, location = SourceKind.FILE, str(path.resolve())
    if page_url_template is not None and "{id}" not in page_url_template:
        raise ValueError("the page URL template must contain {id}, where the entry id goes")
    source = Source(name=name, location=location, kind=kind, page_url_template=page_url_template)
    session.add(source)
    session.flush()
    return source


def make_reader(source: Source, settings: Settings) -> tuple[Reader, HttpClient | None]:
    previous = dict(source.page_fingerprints or {})
    if source.kind is SourceKind.FILE:
        return FileReader(Path(source.location), previous_pages=previous), None
    client = HttpClient(
        ClientPolicy(
            connect_timeout=settings.crawl_connect_timeout,
            read_timeout=settings.crawl_read_timeout,
            retries=settings.crawl_retries,
            backoff=settings.crawl_backoff,
            max_retry_after=settings.crawl_max_retry_after,
            min_interval=settings.crawl_min_request_interval,
        )
    )
    reader = ApiReader(
        source.location,
        client,
        page_size=settings.crawl_page_size,
        max_pages=settings.crawl_max_pages,
        known_version=source.oruk_version,
        previous_pages=previous,
    )
    return reader, client


# --- the lease -----------------------------------------------------------------


def take_lease(source_id: int, seconds: int) -> str:
    """One conditional UPDATE: it succeeds for exactly one caller on both databases."""
    token = secrets.token_hex(16)
    now = utcnow()
    with session_scope() as session:
        result = session.execute(
            update(Source)
            .where(
                Source.id == source_id,
                or_(Source.lock_token.is_(None), Source.lock_expires_at < now),
            )
            .values(lock_token=token, lock_expires_at=now + dt.timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise CrawlBusy("a crawl of this source is already running")
    return token


def release_lease(session: Session, source_id: int, token: str) -> None:
    session.execute(
        update(Source)
        .where(Source.id == source_id, Source.lock_token == token)
        .values(lock_token=None, lock_expires_at=None)
        .execution_options(synchronize_session=False)
    )


# --- reading ---------------------------------------------------------------------


class Known(Protocol):
    """What a crawl needs to know of a stored entry (a result row, not a full Entry:
    loading 5,000 of these must cost little more than the query)."""

    id: int
    list_stamp: str | None
    list_hash: str | None
    present: bool
    missing_crawls: int
    status: str


def settled(known: Known) -> bool:
    """Listed and live, or closed by its status: an unchanged record needs no work. A
    service removed for being absent and now listed again is news even when its record
    is byte for byte the same."""
    return known.present or known.status in CLOSED_STATUSES


def unchanged_by(known: Known, raw_hash: str) -> bool:
    return known.list_hash == raw_hash and settled(known)


@dataclass
class Candidate:
    record: NormalisedRecord
    raw: dict[str, Any]
    stamp: str | None
    raw_hash: str


@dataclass
class ReadOutcome:
    candidates: dict[str, Candidate] = field(default_factory=dict)
    # ids listed by this read (valid or not): what is absent is judged against these
    seen: set[str] = field(default_factory=set)
    unchanged: int = 0
    quarantine: dict[tuple[str, str], str] = field(default_factory=dict)


def _excerpt(raw: Any) -> str:
    try:
        text = json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(raw)
    return text[:2000]


def read_source(
    reader: Reader,
    known: dict[str, Known],
    stored_records: Callable[[str], dict[str, Any] | None],
    *,
    fetch_details: bool,
    quarantined: frozenset[str] = frozenset(),
) -> ReadOutcome:
    out = ReadOutcome()
    first_position: dict[str, int] = {}
    for position, (raw, same_page) in enumerate(reader.records(), start=1):
        key = record_key(raw, position)
        if not isinstance(raw, dict):
            reason = f"record must be an object, not {type(raw).__name__}"
            out.quarantine[(key, reason)] = _excerpt(raw)
            continue
        if not key.startswith("#"):
            if key in first_position:
                out.quarantine[(key, "duplicate id")] = _excerpt(raw)
                continue
            first_position[key] = position
            out.seen.add(key)
        prior = known.get(key)
        if (
            same_page
            and prior is not None
            and prior.list_hash is not None
            and key not in quarantined
            and settled(prior)
        ):
            # The page is byte for byte what the last complete crawl stored, so this
            # record is too: no need to hash it.
            out.unchanged += 1
            continue
        raw_hash = digest(raw)
        stamp = list_stamp(raw)
        if prior is not None and unchanged_by(prior, raw_hash):
            out.unchanged += 1
            continue
        full: Any = raw
        if fetch_details and is_summary(raw) and not key.startswith("#"):
            stored = stored_records(key) if prior is not None else None
            if prior is not None and stamp is not None and stamp == prior.list_stamp and stored:
                # Same timestamp: the nested data has not changed; take the new list-level
                # fields over the detail we already have.
                full = {**stored, **raw}
            else:
                full = reader.detail(key)
                if full is None:
                    out.quarantine[
                        (
                            key,
                            "the directory lists this service but has no record for it (HTTP 404)",
                        )
                    ] = _excerpt(raw)
                    continue
                if isinstance(full, dict):
                    full = {**raw, **full}
        try:
            record = normalise(full)
        except RecordError as exc:
            out.quarantine[(key, str(exc))] = _excerpt(raw)
            continue
        if record.entry_id != key:
            out.quarantine[(key, f"detail record has a different id ({record.entry_id})")] = (
                _excerpt(full)
            )
            continue
        stored_raw = without_nul(full if isinstance(full, dict) else raw)
        out.candidates[key] = Candidate(record, stored_raw, stamp, raw_hash)
    return out


def check_complete(result: ReadResult, outcome: ReadOutcome, present_entries: int) -> str | None:
    """Why this read cannot be trusted to say what is gone, or None if it can."""
    if result.declared_total is not None and result.items_seen < result.declared_total:
        return (
            f"the directory said it had {result.declared_total} services but only "
            f"{result.items_seen} arrived"
        )
    if not outcome.seen and present_entries:
        return (
            f"the directory returned no services, but {present_entries} were listed before; "
            "treating this as a failed crawl rather than removing them all"
        )
    return None


# --- applying --------------------------------------------------------------------


@dataclass
class Applier:
    session: Session
    source: Source
    crawl: Crawl
    mapping: Mapping
    today: dt.date
    now: dt.datetime
    stale_after_days: int
    announce: bool
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    rows: int = 0
    changes: list[Change] = field(default_factory=list)

    def _fields(self, rec: NormalisedRecord) -> dict[str, Any]:
        topics = topics_of(self.mapping, rec)
        values = rec.as_dict()
        values.pop("entry_id")
        values.update(
            age_bands=topics.age_bands,
            needs=topics.needs,
            categories=topics.categories,
            localities=topics.localities,
            content_hash=rec.content_hash(),
            stale=is_stale(rec.assured_date, self.today, self.stale_after_days),
        )
        return values

    def _log(
        self,
        entry: Entry,
        kind: ChangeKind,
        changed: list[str] | None = None,
        details: dict[str, Any] | None = None,
        notable: bool = True,
        reason: str | None = None,
    ) -> None:
        key = {
            ChangeKind.ADDED: "added",
            ChangeKind.UPDATED: "updated",
            ChangeKind.REMOVED: "removed",
            ChangeKind.REOPENED: "reopened",
            ChangeKind.BECAME_STALE: "stale",
        }[kind]
        self.counts[key] += 1
        if not self.announce:
            return
        change = Change(
            source_id=self.source.id,
            entry_pk=entry.id,
            entry_id=entry.entry_id,
            crawl_id=self.crawl.id,
            kind=kind,
            occurred_at=self.now,
            name=entry.name,
            changed_fields=changed or [],
            details=details or {},
            notable=notable,
            snapshot=snapshot_of(entry, self.source),
            reason=reason,
        )
        self.session.add(change)
        self.changes.append(change)
        self.rows += 1

    def add(self, cand: Candidate) -> None:
        values = self._fields(cand.record)
        live = cand.record.status not in CLOSED_STATUSES
        entry = Entry(
            source_id=self.source.id,
            entry_id=cand.record.entry_id,
            list_stamp=cand.stamp,
            list_hash=cand.raw_hash,
            record=cand.raw,
            present=live,
            missing_crawls=0,
            first_seen_at=self.now,
            last_changed_at=self.now,
            removed_at=None if live else self.now,
            **values,
        )
        self.session.add(entry)
        self.session.flush()
        self.rows += 1
        if live:
            self._log(entry, ChangeKind.ADDED)
        else:
            # A closed service appearing for the first time is not news of any kind.
            self.counts["unchanged"] += 1

    def update(self, entry: Entry, cand: Candidate) -> None:
        values = self._fields(cand.record)
        old = {f: getattr(entry, f) for f in values}
        changed, details = diff_fields(old, values)
        was_present = entry.present
        was_stale = entry.stale
        now_live = cand.record.status not in CLOSED_STATUSES
        for name, value in values.items():
            setattr(entry, name, value)
        entry.list_stamp, entry.list_hash, entry.record = cand.stamp, cand.raw_hash, cand.raw
        entry.missing_crawls = 0
        self.rows += 1
        if was_present and not now_live:
            entry.present, entry.removed_at, entry.last_changed_at = False, self.now, self.now
            self._log(
                entry,
                ChangeKind.REMOVED,
                changed,
                details,
                reason=f"the directory now says this service is {cand.record.status}",
            )
        elif not was_present and now_live:
            entry.present, entry.removed_at, entry.last_changed_at = True, None, self.now
            self._log(entry, ChangeKind.REOPENED, changed, details)
        elif changed and was_present:
            entry.last_changed_at = self.now
            self._log(entry, ChangeKind.UPDATED, changed, details, notable=is_notable(changed))
            if entry.stale and not was_stale:
                self._log(
                    entry,
                    ChangeKind.BECAME_STALE,
                    reason=_stale_reason(entry.assured_date, self.stale_after_days),
                )
        else:
            self.counts["unchanged"] += 1

    def seen_again(self, entry: Entry) -> None:
        """Listed, unchanged, after one absence: the absence was a blip."""
        entry.missing_crawls = 0
        self.rows += 1

    def absent(self, entry: Entry) -> None:
        entry.missing_crawls += 1
        self.rows += 1
        if entry.missing_crawls >= 2:
            entry.present, entry.removed_at, entry.last_changed_at = False, self.now, self.now
            self._log(
                entry,
                ChangeKind.REMOVED,
                reason="no longer listed by the directory (absent from two complete crawls)",
            )

    def became_stale(self, entry: Entry) -> None:
        entry.stale = True
        self.rows += 1
        self._log(
            entry,
            ChangeKind.BECAME_STALE,
            reason=_stale_reason(entry.assured_date, self.stale_after_days),
        )


def _stale_reason(assured: dt.date | None, days: int) -> str:
    if assured is None:
        return "the directory does not say when this entry was last checked"
    return f"last checked on {assured.isoformat()}, more than {days} days ago"


def _sync_quarantine(
    session: Session, source_id: int, crawl_id: int, found: dict[tuple[str, str], str]
) -> int:
    existing = {
        (q.record_key, q.reason): q.id
        for q in session.execute(
            select(
                QuarantinedRecord.id, QuarantinedRecord.record_key, QuarantinedRecord.reason
            ).where(QuarantinedRecord.source_id == source_id)
        )
    }
    rows = 0
    gone = [qid for key, qid in existing.items() if key not in found]
    if gone:
        session.execute(delete(QuarantinedRecord).where(QuarantinedRecord.id.in_(gone)))
        rows += len(gone)
    for (key, reason), excerpt in found.items():
        if (key, reason) not in existing:
            session.add(
                QuarantinedRecord(
                    source_id=source_id,
                    record_key=key,
                    reason=without_nul(reason)[:2000],
                    excerpt=excerpt,
                    crawl_id=crawl_id,
                )
            )
            rows += 1
    return rows


def _load_known(session: Session, source_id: int) -> dict[str, Any]:
    # Plain table columns, not ORM attributes: a Core query skips the ORM's per-row work,
    # which is most of the cost of loading thousands of rows.
    t = Entry.__table__.c
    rows = session.connection().execute(
        select(
            t.entry_id, t.id, t.list_stamp, t.list_hash, t.present, t.missing_crawls, t.status
        ).where(t.source_id == source_id)
    )
    return {r.entry_id: r for r in rows}


# --- the whole crawl ---------------------------------------------------------------


def crawl_source(
    name: str,
    *,
    settings: Settings | None = None,
    today: dt.date | None = None,
    notify: bool = True,
) -> CrawlSummary:
    """Crawl one source now. Raises UnknownSource or CrawlBusy; never raises for bad data."""
    settings = settings or get_settings()
    with session_scope() as session:
        source = session.scalar(select(Source).where(Source.name == name))
        if source is None:
            raise UnknownSource(f"there is no source called {name!r}")
        source_id = source.id
    token = take_lease(source_id, settings.crawl_lock_seconds)
    try:
        summary = _crawl_with_lease(source_id, token, settings, today or dt.date.today())
    except BaseException:
        with session_scope() as session:
            release_lease(session, source_id, token)
        raise
    if notify and summary.change_ids:
        notify_downstream(summary.change_ids)
    return summary


def _crawl_with_lease(
    source_id: int, token: str, settings: Settings, today: dt.date
) -> CrawlSummary:
    with session_scope() as session:
        source = session.get_one(Source, source_id)
        crawl = Crawl(
            source_id=source_id, started_at=utcnow(), status=CrawlStatus.RUNNING, counts={}
        )
        session.add(crawl)
        session.flush()
        crawl_id = crawl.id
        known = _load_known(session, source_id)
        quarantined = frozenset(
            session.scalars(
                select(QuarantinedRecord.record_key).where(QuarantinedRecord.source_id == source_id)
            )
        )
        present_count = sum(1 for k in known.values() if k.present)
        reader, client = make_reader(source, settings)
        source_name = source.name

    def stored_record(entry_id: str) -> dict[str, Any] | None:
        with session_scope() as s:
            return s.scalar(
                select(Entry.record).where(Entry.source_id == source_id, Entry.entry_id == entry_id)
            )

    error: str | None = None
    outcome = ReadOutcome()
    try:
        outcome = read_source(
            reader, known, stored_record, fetch_details=client is not None, quarantined=quarantined
        )
        error = check_complete(reader.result, outcome, present_count)
    except SourceError as exc:
        error = str(exc)
    except Exception as exc:  # a bug must not leave the crawl "running" for ever
        log.exception("crawl of %s failed", source_name)
        error = f"unexpected error: {type(exc).__name__}: {exc}"
    finally:
        if client is not None:
            client.close()
    requests_made = client.requests_made if client is not None else 0

    with session_scope() as session:
        source = session.get_one(Source, source_id)
        crawl = session.get_one(Crawl, crawl_id)
        if reader.result.version and source.oruk_version != reader.result.version:
            source.oruk_version = reader.result.version
        if error is not None:
            crawl.status, crawl.error = CrawlStatus.INCOMPLETE, without_nul(error)
            crawl.finished_at, crawl.requests_made = utcnow(), requests_made
            crawl.counts = {
                "seen": reader.result.items_seen,
                "quarantined": len(outcome.quarantine),
            }
            release_lease(session, source_id, token)
            return CrawlSummary(
                source_name,
                crawl_id,
                "incomplete",
                source.baseline_at is None,
                dict.fromkeys(COUNT_KEYS, 0) | {"quarantined": len(outcome.quarantine)},
                error,
                requests_made,
            )

        baseline = source.baseline_at is None
        applier = Applier(
            session=session,
            source=source,
            crawl=crawl,
            mapping=load_mapping(settings.mapping_path),
            today=today,
            now=utcnow(),
            stale_after_days=settings.stale_after_days,
            announce=not baseline,
        )
        applier.counts["unchanged"] = outcome.unchanged
        existing = _load_by_pk(session, [known[k].id for k in outcome.candidates if k in known])
        for key, cand in outcome.candidates.items():
            entry = existing.get(known[key].id) if key in known else None
            if entry is None:
                applier.add(cand)
            else:
                applier.update(entry, cand)

        # Present entries this complete crawl did not list, and ones back after a blip.
        absent = [k.id for key, k in known.items() if k.present and key not in outcome.seen]
        back = [
            k.id
            for key, k in known.items()
            if k.present
            and k.missing_crawls
            and key in outcome.seen
            and key not in outcome.candidates
        ]
        for entry in _load_by_pk(session, absent).values():
            applier.absent(entry)
        for entry in _load_by_pk(session, back).values():
            applier.seen_again(entry)

        # Time passes: entries whose last check has now grown too old.
        cutoff = today - dt.timedelta(days=settings.stale_after_days)
        for entry in session.scalars(
            select(Entry).where(
                Entry.source_id == source_id,
                Entry.present,
                Entry.stale.is_(False),
                or_(Entry.assured_date.is_(None), Entry.assured_date < cutoff),
            )
        ):
            applier.became_stale(entry)

        quarantine_rows = _sync_quarantine(session, source_id, crawl_id, outcome.quarantine)
        applier.counts["quarantined"] = len(outcome.quarantine)
        if baseline:
            source.baseline_at = applier.now
        if (source.page_fingerprints or {}) != reader.result.fingerprints:
            source.page_fingerprints = reader.result.fingerprints
        crawl.status = CrawlStatus.COMPLETE
        crawl.finished_at = utcnow()
        crawl.counts = dict(applier.counts) | {"seen": reader.result.items_seen}
        crawl.requests_made = requests_made
        crawl.rows_written = applier.rows + quarantine_rows
        release_lease(session, source_id, token)
        session.flush()
        return CrawlSummary(
            source_name,
            crawl_id,
            "complete",
            baseline,
            dict(applier.counts),
            None,
            requests_made,
            crawl.rows_written,
            [c.id for c in applier.changes],
        )


def _load_by_pk(session: Session, pks: list[int]) -> dict[int, Entry]:
    found: dict[int, Entry] = {}
    # Chunked IN lists: SQLite limits the bound parameters of one statement.
    for i in range(0, len(pks), 500):
        for entry in session.scalars(select(Entry).where(Entry.id.in_(pks[i : i + 500]))):
            found[entry.id] = entry
    return found


def notify_downstream(change_ids: list[int]) -> None:
    """Queue after commit: the rows these tasks read are already there."""
    from publisher.redis_embedded import embedded_running, is_embedded

    if is_embedded() and not embedded_running():
        # A one-off `publisher ingest` with no service running: starting a Redis just to
        # drop messages into it helps nobody; the beat sweepers catch up when it runs.
        log.info(
            "no queue is running; %d changes will be picked up by the sweepers", len(change_ids)
        )
        return
    from publisher.celery import app

    for name, with_ids in DOWNSTREAM_TASKS:
        try:
            app.send_task(name, args=[change_ids] if with_ids else [])
        except Exception as exc:  # the beat sweepers catch up; a crawl must not fail here
            log.warning("could not queue %s: %s", name, exc)


def crawl_all(settings: Settings | None = None) -> list[CrawlSummary]:
    with session_scope() as session:
        names = list(session.scalars(select(Source.name).order_by(Source.name)))
    summaries = []
    for name in names:
        try:
            summaries.append(crawl_source(name, settings=settings))
        except CrawlBusy:
            log.info("skipping %s: a crawl is already running", name)
    return summaries


def serialise_change(change: Change, source_name: str) -> dict[str, Any]:
    return {
        "id": change.id,
        "source": source_name,
        "entry_id": change.entry_id,
        "kind": change.kind.value,
        "occurred_at": jsonable(change.occurred_at),
        "changed_fields": change.changed_fields,
        "details": change.details,
        "notable": change.notable,
        "name": change.name,
        "reason": change.reason,
        "snapshot": change.snapshot,
    }
