"""Insight tasks: keep the open-data summaries current (``publisher.insight.upkeep``)."""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import Flask
from sqlalchemy.exc import IntegrityError, OperationalError

from publisher.celery import app
from publisher.db import session_scope
from publisher.insight import upkeep

log = logging.getLogger(__name__)


@functools.cache
def _web_app() -> Flask:
    from publisher.web import create_app  # the web app is big: only workers that refresh

    return create_app()


def build_public_pages() -> None:
    """Build the pages that read only the summaries (``/health``, and the reach page's
    figures) for the summaries just committed, so no visitor waits for them. A failure
    here is only logged: the first request then builds the page itself."""
    from publisher.console.insight import keep_reach
    from publisher.insight import health_views

    try:
        with _web_app().test_request_context("/health"), session_scope() as session:
            health_views.keep_built(session)
            keep_reach(session)
    except Exception:  # the refresh itself is done and committed: only log
        log.warning("Could not build /health and reach after the refresh", exc_info=True)


@app.task(name="publisher.insight.refresh_after_crawl", bind=True, max_retries=5)
def refresh_after_crawl(self: Any, change_ids: list[int] | None = None) -> dict[str, int]:
    """Sent by the crawl after it commits: the new changes, and today's freshness and
    coverage (the ids are not needed: the watermark says what is new)."""
    try:
        with session_scope() as session:
            result = upkeep.refresh_changes(session)
            upkeep.refresh_entries(session)
        build_public_pages()
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
            result = upkeep.refresh(session)
        build_public_pages()
        return result.as_dict()
    except (OperationalError, IntegrityError) as exc:
        raise self.retry(exc=exc, countdown=60) from exc
