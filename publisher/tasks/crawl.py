"""Crawl tasks: beat fans out one task per source; each crawls one source."""

from __future__ import annotations

import logging

from sqlalchemy import select

from publisher import ingest
from publisher.celery import app
from publisher.db import session_scope
from publisher.models import Source

log = logging.getLogger(__name__)


@app.task(name="publisher.crawl.crawl_source", ignore_result=True)
def crawl_source(name: str) -> str:
    """Crawl one source. A crawl already running, or a source since deleted, is not an
    error: the next beat tick tries again. Data faults never raise (they are recorded)."""
    try:
        summary = ingest.crawl_source(name)
    except ingest.CrawlBusy:
        log.info("crawl of %s skipped: one is already running", name)
        return "busy"
    except ingest.UnknownSource:
        log.warning("crawl of %s skipped: no such source", name)
        return "unknown"
    log.info(summary.line())
    return summary.status


@app.task(name="publisher.crawl.crawl_all", ignore_result=True)
def crawl_all() -> int:
    """Queue a crawl of every source (beat runs this every CRAWL_INTERVAL_MINUTES)."""
    with session_scope() as session:
        names = list(session.scalars(select(Source.name).order_by(Source.name)))
    for name in names:
        crawl_source.delay(name)
    return len(names)
