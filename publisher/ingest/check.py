"""Whether a read can be trusted to say what is gone."""

from __future__ import annotations

from publisher.ingest.read import ReadOutcome
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
