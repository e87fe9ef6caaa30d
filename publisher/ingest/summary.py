"""What a crawl reports: its counts, the one-line summary, and changes as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from publisher.changes import jsonable
from publisher.models import Change

COUNT_KEYS = ("added", "updated", "removed", "reopened", "stale", "unchanged", "quarantined")


def zero_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


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


def serialise_change(change: Change, source_name: str) -> dict[str, Any]:
    """One change as ``publisher changes --json`` prints it."""
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
