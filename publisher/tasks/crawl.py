"""Crawl tasks: beat fans out one task per source; each crawls one source.

A crawl has Celery soft and hard time limits (``CRAWL_TASK_TIME_LIMIT``; the hard one a
minute later) on top of each request's deadline, so no crawl runs for ever: at the soft
limit the crawl records itself as incomplete; at the hard limit the worker process is
ended, its lease runs out within ``CRAWL_LOCK_SECONDS`` and its row is closed by the
sweeper. A database error retries the task with backoff instead of dropping it.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError

from publisher import ingest
from publisher.celery import app
from publisher.config import get_settings
from publisher.db import session_scope
from publisher.models import Source

log = logging.getLogger(__name__)

# The database went away (restart, failover, network): worth trying again.
DATABASE_ERRORS = (OperationalError, InterfaceError)
_limit = get_settings().crawl_task_time_limit


@app.task(
    name="publisher.crawl.crawl_source",
    ignore_result=True,
    soft_time_limit=_limit,
    time_limit=_limit + 60,
    autoretry_for=DATABASE_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def crawl_source(name: str) -> str:
    """Crawl one source. A crawl already running, or a source since deleted, is not an
    error: the next beat tick tries again. Data faults never raise (they are recorded)."""
    try:
        summary = ingest.crawl_source(name)
    except ingest.CrawlBusy as exc:
        log.info("crawl of %s skipped: %s", name, exc)
        return "busy"
    except ingest.UnknownSource:
        log.warning("crawl of %s skipped: no such source", name)
        return "unknown"
    # Failures at WARNING; a crawl that found nothing new stays out of INFO (issue 13.4).
    if summary.status != "complete":
        log.warning(summary.line())
    elif summary.rows_written or summary.baseline:
        log.info(summary.line())
    else:
        log.debug(summary.line())
    return summary.status


@app.task(
    name="publisher.crawl.crawl_all",
    ignore_result=True,
    autoretry_for=DATABASE_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
)
def crawl_all() -> int:
    """Queue a crawl of every source (beat runs this every CRAWL_INTERVAL_MINUTES)."""
    with session_scope() as session:
        names = list(session.scalars(select(Source.name).order_by(Source.name)))
    for name in names:
        crawl_source.delay(name)
    return len(names)


@app.task(
    name="publisher.crawl.sweep",
    ignore_result=True,
    autoretry_for=DATABASE_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=3,
)
def sweep() -> int:
    """Beat, every minute: close crawl rows left ``running`` by a crawler that died."""
    with session_scope() as session:
        closed = ingest.close_abandoned(session)
    if closed:
        log.warning("closed %d crawl(s) a stopped crawler left running", closed)
    return closed
