"""Feedback tasks (issue 14)."""

from __future__ import annotations

from publisher.celery import app
from publisher.db import session_scope


@app.task(name="publisher.feedback.erase_old_contacts", ignore_result=True)
def erase_old_contacts() -> int:
    """Beat, daily: delete reporters' contact addresses after FEEDBACK_KEEP_DAYS (28)."""
    from publisher.feedback.service import erase_old_contacts as erase

    with session_scope() as session:
        return erase(session)
