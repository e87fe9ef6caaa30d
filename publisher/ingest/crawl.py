"""One crawl of one source, in phases: start (close rows a dead crawler left, open this
crawl's row, load what is known), read (every record, then the completeness check), and
record: the crawl as incomplete, or as held (it would remove too much at once), with
nothing else changed; or the whole read applied in one transaction. Then, after the
commit, downstream work is queued.

Failures: bad data and an unreachable directory are recorded, never raised. A database
error is raised (the Celery task retries it with backoff); the crawl's row is then left
``running`` and closed as failed by the next crawl of the source or the sweeper, and the
lease runs out within ``CRAWL_LOCK_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from publisher.config import Settings, get_settings
from publisher.db import session_scope, utcnow
from publisher.ingest.apply import Applier, load_known, sync_quarantine
from publisher.ingest.check import Hold, check_complete, count_removals, removal_hold
from publisher.ingest.downstream import notify_downstream
from publisher.ingest.lease import Lease, LeaseLost, close_abandoned, release_lease, take_lease
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
    holder: str | None = None,
) -> CrawlSummary:
    """Crawl one source now. Raises UnknownSource or CrawlBusy (which says who holds the
    lease and until when); never raises for bad data or an unreachable directory."""
    settings = settings or get_settings()
    with session_scope() as session:
        source = session.scalar(select(Source).where(Source.name == name))
        if source is None:
            raise UnknownSource(f"there is no source called {name!r}")
        source_id = source.id
    lease = take_lease(source_id, settings.crawl_lock_seconds, holder)
    try:
        summary = _crawl_with_lease(lease, settings, today or dt.date.today())
    except BaseException:
        try:
            with session_scope() as session:
                release_lease(session, source_id, lease.token)
        except SQLAlchemyError:
            log.warning("could not release the lease of %s; it runs out by itself", name)
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


def _crawl_with_lease(lease: Lease, settings: Settings, today: dt.date) -> CrawlSummary:
    started = _start(lease, settings)
    outcome, error = _read(started)
    with session_scope() as session:
        source = session.get_one(Source, lease.source_id)
        crawl = session.get_one(Crawl, started.crawl_id)
        if error is None:
            try:
                # Renewed in this transaction: nobody can take the source over while
                # this crawl's results are written.
                lease.renew(session)
            except LeaseLost as exc:
                error = str(exc)
        version = started.reader.result.version
        if version and source.oruk_version != version:
            source.oruk_version = version
        hold = None if error is not None else _hold(source, started, outcome, settings)
        if error is not None:
            summary = _record_incomplete(source, crawl, started, outcome, error)
        elif hold is not None:
            summary = _record_held(source, crawl, started, outcome, hold)
        else:
            summary = _apply(session, source, crawl, started, outcome, settings, today)
        release_lease(session, lease.source_id, lease.token)
        return summary


def _start(lease: Lease, settings: Settings) -> Started:
    """Close rows a dead crawler left, open this crawl's row (``running``) and load
    what is known of the source."""
    with session_scope() as session:
        source = session.get_one(Source, lease.source_id)
        closed = close_abandoned(session, lease.source_id)
        if closed:
            log.warning(
                "%s: closed %d crawl(s) a stopped crawler left running", source.name, closed
            )
        crawl = Crawl(
            source_id=source.id, started_at=utcnow(), status=CrawlStatus.RUNNING, counts={}
        )
        session.add(crawl)
        session.flush()
        known = load_known(session, source.id)
        quarantined = frozenset(
            session.scalars(
                select(QuarantinedRecord.record_key).where(QuarantinedRecord.source_id == source.id)
            )
        )
        reader, client = make_reader(source, settings, lease.heartbeat)
        return Started(
            source_id=source.id,
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
    trusted (None: it can). Database errors are raised, not recorded."""

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
    except (SourceError, LeaseLost) as exc:
        return outcome, str(exc)
    except SoftTimeLimitExceeded:
        return outcome, "the crawl took longer than its time limit (CRAWL_TASK_TIME_LIMIT)"
    except SQLAlchemyError:
        raise
    except Exception as exc:  # a bug must not leave the crawl "running" for ever
        log.exception("crawl of %s failed", started.source_name)
        return outcome, f"unexpected error: {type(exc).__name__}: {exc}"
    finally:
        if started.client is not None:
            started.client.close()


def _hold(
    source: Source, started: Started, outcome: ReadOutcome, settings: Settings
) -> Hold | None:
    return removal_hold(
        count_removals(started.known, outcome),
        started.present_count,
        max_share=settings.crawl_max_removed_share,
        max_count=settings.crawl_max_removed,
        confirmed=source.removals_confirmed,
    )


def _finish(crawl: Crawl, status: CrawlStatus, started: Started, counts: dict[str, Any]) -> None:
    crawl.status, crawl.finished_at = status, utcnow()
    crawl.requests_made, crawl.counts = started.requests_made, counts


def _record_incomplete(
    source: Source, crawl: Crawl, started: Started, outcome: ReadOutcome, error: str
) -> CrawlSummary:
    """The read cannot say what is gone: record why, and change nothing else."""
    crawl.error = without_nul(error)
    _finish(
        crawl,
        CrawlStatus.INCOMPLETE,
        started,
        {"seen": started.reader.result.items_seen, "quarantined": len(outcome.quarantine)},
    )
    return CrawlSummary(
        started.source_name,
        started.crawl_id,
        "incomplete",
        source.baseline_at is None,
        zero_counts() | {"quarantined": len(outcome.quarantine)},
        error,
        started.requests_made,
    )


def _record_held(
    source: Source, crawl: Crawl, started: Started, outcome: ReadOutcome, hold: Hold
) -> CrawlSummary:
    """Complete, but it would remove too many at once: change nothing, say so."""
    crawl.error = hold.error
    _finish(
        crawl,
        CrawlStatus.HELD,
        started,
        {
            "seen": started.reader.result.items_seen,
            "would_remove": hold.would_remove,
            "present": hold.present,
        },
    )
    log.warning("%s: crawl %d %s", started.source_name, crawl.id, hold.error)
    return CrawlSummary(
        started.source_name,
        started.crawl_id,
        "held",
        False,
        zero_counts(),
        hold.explain(started.source_name),
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
    applier.fill_opening_times()
    applier.apply_candidates(started.known, outcome)
    applier.apply_absences(started.known, outcome)
    applier.apply_staleness()
    # Provider reviews (issue 9): close those the directory has now caught up with.
    from publisher.reviews.catchup import close_caught_up

    close_caught_up(session, source.id, applier.now)
    quarantine_rows = sync_quarantine(session, source.id, crawl.id, outcome.quarantine)
    applier.counts["quarantined"] = len(outcome.quarantine)

    result = started.reader.result
    if baseline:
        source.baseline_at = applier.now
    if (source.page_fingerprints or {}) != result.fingerprints:
        source.page_fingerprints = result.fingerprints
    if source.removals_confirmed is not None:
        source.removals_confirmed = None  # a confirmation covers one crawl
    _finish(
        crawl, CrawlStatus.COMPLETE, started, dict(applier.counts) | {"seen": result.items_seen}
    )
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
