"""Applying a complete read, inside one transaction: entries, change events, absences,
staleness and the quarantine. The first complete crawl of a source is a baseline: it
records everything and announces nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from publisher.changes import CLOSED_STATUSES, diff_fields, is_notable, is_stale, snapshot_of
from publisher.ingest.read import Candidate, Known, ReadOutcome
from publisher.ingest.summary import zero_counts
from publisher.models import Change, ChangeKind, Crawl, Entry, QuarantinedRecord, Source
from publisher.sources.opening_times import opening_times
from publisher.sources.records import NormalisedRecord, without_nul
from publisher.topics import Mapping, topics_of

COUNT_OF_KIND = {
    ChangeKind.ADDED: "added",
    ChangeKind.UPDATED: "updated",
    ChangeKind.REMOVED: "removed",
    ChangeKind.REOPENED: "reopened",
    ChangeKind.BECAME_STALE: "stale",
}


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
    counts: dict[str, int] = field(default_factory=zero_counts)
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
        self.counts[COUNT_OF_KIND[kind]] += 1
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
        if not changed:
            # Nothing material differs: the hash stays as it was, even when its recipe
            # has grown (opening times, 0620), so reviews do not read it as a change.
            values.pop("content_hash")
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
                    reason=stale_reason(entry.assured_date, self.stale_after_days),
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
            reason=stale_reason(entry.assured_date, self.stale_after_days),
        )

    # --- the steps of one complete read, in order ---------------------------------

    def fill_opening_times(self) -> int:
        """Entries stored before opening times were kept (NULL) get them from the record
        they were last read from, silently: the same hours are no news, and a change of
        hours since then is still told, by comparing against this, when the record is
        compared below. The content hash is left alone. Returns how many were filled."""
        filled = 0
        for entry in self.session.scalars(
            select(Entry).where(Entry.source_id == self.source.id, Entry.opening_times.is_(None))
        ):
            entry.opening_times = opening_times(entry.record) or ""
            filled += 1
        self.rows += filled
        return filled

    def apply_candidates(self, known: dict[str, Known], outcome: ReadOutcome) -> None:
        """New records are added; possibly changed ones are compared and updated."""
        existing = load_by_pk(self.session, [known[k].id for k in outcome.candidates if k in known])
        for key, cand in outcome.candidates.items():
            entry = existing.get(known[key].id) if key in known else None
            if entry is None:
                self.add(cand)
            else:
                self.update(entry, cand)

    def apply_absences(self, known: dict[str, Known], outcome: ReadOutcome) -> None:
        """Present entries this complete read did not list, and ones back after a blip."""
        absent = [k.id for key, k in known.items() if k.present and key not in outcome.seen]
        back = [
            k.id
            for key, k in known.items()
            if k.present
            and k.missing_crawls
            and key in outcome.seen
            and key not in outcome.candidates
        ]
        for entry in load_by_pk(self.session, absent).values():
            self.absent(entry)
        for entry in load_by_pk(self.session, back).values():
            self.seen_again(entry)

    def apply_staleness(self) -> None:
        """Time passes: entries whose last check has now grown too old."""
        cutoff = self.today - dt.timedelta(days=self.stale_after_days)
        for entry in self.session.scalars(
            select(Entry).where(
                Entry.source_id == self.source.id,
                Entry.present,
                Entry.stale.is_(False),
                or_(Entry.assured_date.is_(None), Entry.assured_date < cutoff),
            )
        ):
            self.became_stale(entry)


def stale_reason(assured: dt.date | None, days: int) -> str:
    if assured is None:
        return "the directory does not say when this entry was last checked"
    return f"last checked on {assured.isoformat()}, more than {days} days ago"


def sync_quarantine(
    session: Session, source_id: int, crawl_id: int, found: dict[tuple[str, str], str]
) -> int:
    """Make the source's quarantine what this read found; return the rows written."""
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


def load_known(session: Session, source_id: int) -> dict[str, Any]:
    """entry_id -> a row with what ``read`` needs (see ``read.Known``)."""
    # Plain table columns, not ORM attributes: a Core query skips the ORM's per-row work,
    # which is most of the cost of loading thousands of rows.
    t = Entry.__table__.c
    rows = session.connection().execute(
        select(
            t.entry_id, t.id, t.list_stamp, t.list_hash, t.present, t.missing_crawls, t.status
        ).where(t.source_id == source_id)
    )
    return {r.entry_id: r for r in rows}


def load_by_pk(session: Session, pks: list[int]) -> dict[int, Entry]:
    found: dict[int, Entry] = {}
    # Chunked IN lists: SQLite limits the bound parameters of one statement.
    for i in range(0, len(pks), 500):
        for entry in session.scalars(select(Entry).where(Entry.id.in_(pks[i : i + 500]))):
            found[entry.id] = entry
    return found
