"""One crawl of one source, in phases: start (a crawl row, what is known), read (every
record, then the completeness check), and record: either the crawl as incomplete, with
nothing else changed, or the whole read applied in one transaction. Then, after the
commit, downstream work is queued."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.config import Settings, get_settings
from publisher.db import session_scope, utcnow
from publisher.ingest.apply import Applier, load_known, sync_quarantine
from publisher.ingest.check import check_complete
from publisher.ingest.downstream import notify_downstream
from publisher.ingest.lease import release_lease, take_lease
from publisher.ingest.read import Known, ReadOutcome, read_source
from publisher.ingest.readers import Reader, make_reader
from publisher.ingest.summary import CrawlSummary, zero_counts
from publisher.models import Crawl, CrawlStatus, Entry, QuarantinedRecord, Source
from publisher.sources.client import HttpClient
from publisher.sources.reader import SourceError
from publisher.sources.records import without_nul
from publisher.topics import load_mapping

log = logging.getLogger(__name__)


class UnknownSource(LookupError):
    pass


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


@dataclass
class Started:
    """What the read needs, gathered in the first short transaction."""

    source_id: int
    source_name: str
    crawl_id: int
    known: dict[str, Known]
    quarantined: frozenset[str]
    present_count: int
    reader: Reader
    client: HttpClient | None

    @property
    def requests_made(self) -> int:
        return self.client.requests_made if self.client is not None else 0


def _crawl_with_lease(
    source_id: int, token: str, settings: Settings, today: dt.date
) -> CrawlSummary:
    started = _start(source_id, settings)
    outcome, error = _read(started)
    with session_scope() as session:
        source = session.get_one(Source, source_id)
        crawl = session.get_one(Crawl, started.crawl_id)
        version = started.reader.result.version
        if version and source.oruk_version != version:
            source.oruk_version = version
        if error is not None:
            summary = _record_incomplete(source, crawl, started, outcome, error)
        else:
            summary = _apply(session, source, crawl, started, outcome, settings, today)
        release_lease(session, source_id, token)
        return summary


def _start(source_id: int, settings: Settings) -> Started:
    """Open the crawl's row (``running``) and load what is known of the source."""
    with session_scope() as session:
        source = session.get_one(Source, source_id)
        crawl = Crawl(
            source_id=source_id, started_at=utcnow(), status=CrawlStatus.RUNNING, counts={}
        )
        session.add(crawl)
        session.flush()
        known = load_known(session, source_id)
        quarantined = frozenset(
            session.scalars(
                select(QuarantinedRecord.record_key).where(QuarantinedRecord.source_id == source_id)
            )
        )
        reader, client = make_reader(source, settings)
        return Started(
            source_id=source_id,
            source_name=source.name,
            crawl_id=crawl.id,
            known=known,
            quarantined=quarantined,
            present_count=sum(1 for k in known.values() if k.present),
            reader=reader,
            client=client,
        )


def _read(started: Started) -> tuple[ReadOutcome, str | None]:
    """Read everything, outside any transaction; the error says why the read cannot be
    trusted (None: it can)."""

    def stored_record(entry_id: str) -> dict[str, Any] | None:
        with session_scope() as s:
            return s.scalar(
                select(Entry.record).where(
                    Entry.source_id == started.source_id, Entry.entry_id == entry_id
                )
            )

    outcome = ReadOutcome()
    try:
        outcome = read_source(
            started.reader,
            started.known,
            stored_record,
            fetch_details=started.client is not None,
            quarantined=started.quarantined,
        )
        return outcome, check_complete(started.reader.result, outcome, started.present_count)
    except SourceError as exc:
        return outcome, str(exc)
    except Exception as exc:  # a bug must not leave the crawl "running" for ever
        log.exception("crawl of %s failed", started.source_name)
        return outcome, f"unexpected error: {type(exc).__name__}: {exc}"
    finally:
        if started.client is not None:
            started.client.close()


def _record_incomplete(
    source: Source, crawl: Crawl, started: Started, outcome: ReadOutcome, error: str
) -> CrawlSummary:
    """The read cannot say what is gone: record why, and change nothing else."""
    crawl.status, crawl.error = CrawlStatus.INCOMPLETE, without_nul(error)
    crawl.finished_at, crawl.requests_made = utcnow(), started.requests_made
    crawl.counts = {
        "seen": started.reader.result.items_seen,
        "quarantined": len(outcome.quarantine),
    }
    return CrawlSummary(
        started.source_name,
        started.crawl_id,
        "incomplete",
        source.baseline_at is None,
        zero_counts() | {"quarantined": len(outcome.quarantine)},
        error,
        started.requests_made,
    )


def _apply(
    session: Session,
    source: Source,
    crawl: Crawl,
    started: Started,
    outcome: ReadOutcome,
    settings: Settings,
    today: dt.date,
) -> CrawlSummary:
    """A complete read: entries, events, absences, staleness and quarantine, at once."""
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
    applier.apply_candidates(started.known, outcome)
    applier.apply_absences(started.known, outcome)
    applier.apply_staleness()
    quarantine_rows = sync_quarantine(session, source.id, crawl.id, outcome.quarantine)
    applier.counts["quarantined"] = len(outcome.quarantine)

    result = started.reader.result
    if baseline:
        source.baseline_at = applier.now
    if (source.page_fingerprints or {}) != result.fingerprints:
        source.page_fingerprints = result.fingerprints
    crawl.status = CrawlStatus.COMPLETE
    crawl.finished_at = utcnow()
    crawl.counts = dict(applier.counts) | {"seen": result.items_seen}
    crawl.requests_made = started.requests_made
    crawl.rows_written = applier.rows + quarantine_rows
    session.flush()
    return CrawlSummary(
        started.source_name,
        started.crawl_id,
        "complete",
        baseline,
        dict(applier.counts),
        None,
        started.requests_made,
        crawl.rows_written,
        [c.id for c in applier.changes],
    )
