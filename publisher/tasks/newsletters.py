"""Newsletter tasks: thin wrappers that take ids, call one function, decide on retry."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_shutdown
from sqlalchemy.exc import InterfaceError, OperationalError

from publisher.celery import app
from publisher.newsletters import editions, sending, sweeping

SEND_BATCH = "publisher.newsletters.send_batch"
# The database went away (restart, crash, network) or was busy: try again with backoff
# rather than drop the work. Every task here is safe to run again.
DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_ON_DATABASE_ERROR: dict[str, Any] = {
    "autoretry_for": DATABASE_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 30,
    "retry_jitter": True,
}


def _queue_batch(edition_id: int, subscriber_ids: list[int]) -> None:
    # Called by the editions code once the edition's rows are committed.
    send_batch.delay(edition_id, subscriber_ids)


@app.task(
    name="publisher.newsletters.run_due",
    ignore_result=True,
    max_retries=5,
    **RETRY_ON_DATABASE_ERROR,
)
def run_due() -> dict[str, str]:
    """Beat, every minute: build and queue whichever editions are due."""
    return editions.run_due(_queue_batch)


@app.task(
    name="publisher.newsletters.changes_arrived",
    ignore_result=True,
    max_retries=10,
    **RETRY_ON_DATABASE_ERROR,
)
def changes_arrived(change_ids: list[int] | None = None) -> dict[str, str]:
    """From ingest after a crawl: look for immediate editions due (the ids are not needed;
    the edition takes every change not yet sent)."""
    from publisher.models import Frequency

    return {"immediate": editions.run_edition(Frequency.IMMEDIATE, _queue_batch).reason}


@app.task(
    name=SEND_BATCH,
    bind=True,
    ignore_result=True,
    max_retries=None,
    acks_late=True,
    **RETRY_ON_DATABASE_ERROR,
)
def send_batch(self: Any, edition_id: int, subscriber_ids: list[int]) -> dict[str, int]:
    result = sending.send_batch(edition_id, subscriber_ids)
    if result.retry_error:
        # The provider is down or refusing us: the rows are pending again; try later.
        countdown = min(600, 30 * 2 ** min(self.request.retries, 5))
        raise self.retry(countdown=countdown, exc=RuntimeError(result.retry_error))
    return {
        "sent": result.sent,
        "failed": result.failed,
        "skipped": result.skipped,
        "unknown": result.unknown,
    }


@app.task(
    name="publisher.newsletters.sweep",
    ignore_result=True,
    max_retries=3,
    **RETRY_ON_DATABASE_ERROR,
)
def sweep() -> dict[str, Any]:
    """Beat, every minute: give back stale claims, re-queue lost work, finish editions."""
    out = sweeping.sweep(_queue_batch)
    return {
        "released": out.released,
        "requeued": out.requeued_editions,
        "finished": out.finished_editions,
        "resumed_builds": out.resumed_builds,
    }


@worker_process_shutdown.connect
def _close_transport(**_: Any) -> None:
    sending.reset_process_state()
