"""Insight tasks: keep the open-data summaries current (``publisher.insight.upkeep``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from publisher.celery import app
from publisher.db import session_scope
from publisher.insight import upkeep


@app.task(name="publisher.insight.refresh_after_crawl", bind=True, max_retries=5)
def refresh_after_crawl(self: Any, change_ids: list[int] | None = None) -> dict[str, int]:
    """Sent by the crawl after it commits: the new changes, and today's freshness and
    coverage (the ids are not needed: the watermark says what is new)."""
    try:
        with session_scope() as session:
            result = upkeep.refresh_changes(session)
            upkeep.refresh_entries(session)
        return result.as_dict()
    except (OperationalError, IntegrityError) as exc:
        # A busy database, or another refresh summarised the same changes first (the
        # primary keys refuse a second copy): another go finds things settled.
        raise self.retry(exc=exc, countdown=30) from exc


@app.task(name="publisher.insight.refresh", bind=True, max_retries=3)
def refresh(self: Any) -> dict[str, int]:
    """Beat: everything, so that a day with no crawl still has its point, and finished
    editions and published posts are counted."""
    try:
        with session_scope() as session:
            return upkeep.refresh(session).as_dict()
    except (OperationalError, IntegrityError) as exc:
        raise self.retry(exc=exc, countdown=60) from exc
