"""Feed tasks: rebuild the cached feed documents after the change log grows.

Sent by the crawl after it commits changes (HOOKS.md) and by beat every minute, which
catches up if a message was lost: the rebuild compares each document with the newest
change id, so it does nothing when all are current.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from publisher.celery import app
from publisher.feeds import service
from publisher.feeds.websub import HubError


@app.task(name="publisher.feeds.rebuild_feeds", bind=True, max_retries=5, ignore_result=True)
def rebuild_feeds(self: Any) -> int:
    try:
        return service.rebuild_feeds().newest_change_id
    except HubError as exc:
        # The feeds are rebuilt and stored; only the hub still needs telling.
        if exc.retryable:
            raise self.retry(exc=exc, countdown=60) from exc
        raise
    except (OperationalError, IntegrityError) as exc:
        # A busy database (SQLite locked, PostgreSQL restarting), or a request that
        # stored the same new feed first: another go will find things settled.
        raise self.retry(exc=exc, countdown=30) from exc
