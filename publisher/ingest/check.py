"""Whether a read can be trusted to say what is gone, and whether what it would remove
is believable."""

from __future__ import annotations

from dataclasses import dataclass

from publisher.changes import CLOSED_STATUSES
from publisher.ingest.read import Known, ReadOutcome
from publisher.sources.reader import ReadResult


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


def count_removals(known: dict[str, Known], outcome: ReadOutcome) -> int:
    """How many listed entries applying this read would take off: absent for the second
    complete crawl running (see ``apply.Applier.absent``), or now closed by status."""
    absent = sum(
        1
        for key, k in known.items()
        if k.present and key not in outcome.seen and k.missing_crawls + 1 >= 2
    )
    closed = sum(
        1
        for key, cand in outcome.candidates.items()
        if key in known and known[key].present and cand.record.status in CLOSED_STATUSES
    )
    return absent + closed


@dataclass(frozen=True)
class Hold:
    would_remove: int
    present: int
    limit: str

    @property
    def error(self) -> str:
        return f"held: {self.would_remove} would be removed"

    def explain(self, source_name: str) -> str:
        return (
            f"held: {self.would_remove} of {self.present} services would be removed at once "
            f"(more than {self.limit}), so nothing was changed. If the directory really "
            f"dropped them, confirm with `publisher source confirm-removals {source_name}` "
            "or the button on the console's Sources page; otherwise the next crawl decides"
        )


def removal_hold(
    would_remove: int,
    present: int,
    *,
    max_share: float,
    max_count: int,
    confirmed: int | None,
) -> Hold | None:
    """A Hold when removing ``would_remove`` of ``present`` entries at once is more than
    the settings allow and an officer has not confirmed at least that many."""
    if would_remove == 0 or (confirmed is not None and would_remove <= confirmed):
        return None
    if would_remove > max_count:
        return Hold(would_remove, present, f"CRAWL_MAX_REMOVED, {max_count}")
    if would_remove > max_share * present:
        return Hold(would_remove, present, f"CRAWL_MAX_REMOVED_SHARE, {max_share:.0%}")
    return None
