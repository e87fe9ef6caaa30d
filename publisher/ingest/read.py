"""Reading a directory: every raw record in order, sorted into candidates (new or
possibly changed, normalised), unchanged ones (counted only) and the quarantine.

Nothing here writes to the database: the read must be complete before anything is
applied.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from publisher.changes import CLOSED_STATUSES
from publisher.ingest.readers import Reader
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


MISSING_DETAIL = "the directory lists this service but has no record for it (HTTP 404)"


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
                    out.quarantine[(key, MISSING_DETAIL)] = _excerpt(raw)
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
