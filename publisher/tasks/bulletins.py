"""Bulletin tasks (issue 14): thin wrappers, on the newsletters queue."""

from __future__ import annotations

from typing import Any

from publisher.celery import app
from publisher.db import session_scope


@app.task(
    name="publisher.newsletters.send_urgent_bulletin",
    bind=True,
    ignore_result=True,
    max_retries=None,
    acks_late=True,
)
def send_urgent_bulletin(self: Any, bulletin_id: int) -> dict[str, int]:
    """Plan the ledger (once) and send what is pending; retry later if the provider is down."""
    from publisher.bulletins import urgent

    with session_scope() as session:
        urgent.plan(session, bulletin_id)
    result = urgent.send_pending(bulletin_id)
    if result.retry_error:
        countdown = min(600, 30 * 2 ** min(self.request.retries, 5))
        raise self.retry(countdown=countdown, exc=RuntimeError(result.retry_error))
    return {"sent": result.sent, "failed": result.failed, "skipped": result.skipped}


@app.task(name="publisher.newsletters.sweep_bulletins", ignore_result=True)
def sweep_bulletins() -> list[int]:
    """Beat, every minute: give back stale claims and re-queue unsent urgent bulletins."""
    from publisher.bulletins import urgent
    from publisher.tasks.queueing import send_after_commit

    with session_scope() as session:
        due = urgent.sweep(session)
        for bulletin_id in due:
            send_after_commit(session, send_urgent_bulletin, bulletin_id)
    return due
