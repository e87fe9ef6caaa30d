"""Provider review tasks: beat runs the planner and sender daily (issue 9)."""

from __future__ import annotations

import logging
from typing import Any

from publisher.celery import app

log = logging.getLogger(__name__)


@app.task(name="publisher.reviews.run_daily", bind=True, max_retries=3, default_retry_delay=600)
def run_daily(self: Any) -> dict[str, Any]:
    """Plan today's requests and reminders, write them to the ledger, send them. Safe to
    run twice: the ledger's keys and claims make a second run send nothing already sent.
    When the mail server is down the requests stay pending for the retry or tomorrow."""
    from publisher.db import session_scope
    from publisher.reviews.reports import erase_old_emails
    from publisher.reviews.sending import run_daily as run

    with session_scope() as session:
        erase_old_emails(session)  # parents' addresses: kept 28 days at most
    result = run()
    if result.retry_error and result.sent == 0:
        log.warning("review emails not sent: %s", result.retry_error)
        raise self.retry()
    return {"opened": result.opened, "sent": result.sent, "no_reply": result.no_reply}
