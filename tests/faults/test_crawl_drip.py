"""No crawl hangs (issue 10, point 4).

A server that sends one byte every 2 s never trips a read timeout; before the fix it kept
a crawl running for over 240 s and its source leased for an hour. Now every request has
an overall deadline (CRAWL_REQUEST_DEADLINE), so the crawl ends, records itself as
incomplete, frees its source and says why in plain words. A connection closed mid-body
(ChunkedEncodingError) is retried like other connection errors and reported the same way,
without a traceback.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, update

from publisher.db import session_scope
from publisher.ingest import add_source, crawl_source
from publisher.models import Change, Crawl, CrawlStatus, Entry, Source
from publisher.tasks.crawl import crawl_source as crawl_task
from tests.faults.crawl_servers import (
    FAST_CRAWL,
    CutServer,
    DripServer,
    directory_of,
    fault_crawl_env,  # noqa: F401 - fixture
    run_publisher,
)

pytestmark = pytest.mark.date_sensitive

COUNT = 12


@pytest.fixture()
def crawled(fault_crawl_env) -> Iterator[None]:  # noqa: F811
    """A source with a baseline, from a directory that then goes bad."""
    server = directory_of(COUNT, dt.date.today())
    with session_scope() as session:
        add_source(session, "north", server.url)
    assert crawl_source("north", notify=False).status == "complete"
    server.stop()
    yield


def _point_at(url: str) -> None:
    with session_scope() as session:
        session.execute(update(Source).values(location=url))


def _nothing_lost() -> None:
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Change)) == 0
        assert session.scalar(select(func.count()).where(Entry.present)) == COUNT
        assert session.scalar(select(func.max(Entry.missing_crawls))) == 0
        source = session.scalars(select(Source)).one()
        assert source.lock_token is None and source.lock_holder is None
        last = session.scalars(select(Crawl).order_by(Crawl.id.desc()).limit(1)).one()
        assert last.status is CrawlStatus.INCOMPLETE


def test_a_drip_feed_server_cannot_hold_a_crawl(crawled, database_url, tmp_path):
    drip = DripServer(interval=2.0).start()
    try:
        _point_at(drip.url)
        started = time.monotonic()
        result = run_publisher("ingest", "north", database_url=database_url, data_dir=tmp_path)
        took = time.monotonic() - started
    finally:
        drip.stop()
    deadline = float(FAST_CRAWL["CRAWL_REQUEST_DEADLINE"])
    tries = int(FAST_CRAWL["CRAWL_RETRIES"]) + 1
    # Page 1 (the version is known from the baseline), tried twice, cut off each time.
    assert drip.hits == tries
    assert took < 90, took  # the command as a whole, start-up included
    with session_scope() as session:
        last = session.scalars(select(Crawl).order_by(Crawl.id.desc()).limit(1)).one()
        assert last.finished_at is not None
        crawling = (last.finished_at - last.started_at).total_seconds()
    # Each try ended at its deadline (plus a little backoff), however slow the drip.
    assert crawling < tries * (deadline + 2), crawling
    assert result.returncode == 1
    assert "incomplete" in result.stdout
    assert f"took longer than {deadline:g} seconds in all" in result.stdout
    assert "gave up after 2 tries" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    _nothing_lost()


def test_a_body_cut_short_is_retried_and_told_in_plain_words(crawled, database_url, tmp_path):
    cut = CutServer().start()
    try:
        _point_at(cut.url)
        result = run_publisher("ingest", "north", database_url=database_url, data_dir=tmp_path)
    finally:
        cut.stop()
    tries = int(FAST_CRAWL["CRAWL_RETRIES"]) + 1
    assert cut.hits == tries  # retried like a connection error
    assert result.returncode == 1
    assert "the connection closed before the whole answer arrived" in result.stdout
    assert "ChunkedEncodingError" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    _nothing_lost()


def test_crawl_tasks_have_celery_time_limits(fault_crawl_env):  # noqa: F811
    # Set from CRAWL_TASK_TIME_LIMIT when the task module loads: soft, then hard a minute on.
    assert crawl_task.soft_time_limit == 1800
    assert crawl_task.time_limit == 1860
