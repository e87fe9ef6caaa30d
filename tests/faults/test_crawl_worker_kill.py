"""A crawl worker killed mid-crawl (issue 10, point 5).

Before: the source stayed leased for up to an hour (CRAWL_LOCK_SECONDS), its crawl row
said "running" for ever, and `publisher ingest` said "skipped" and exited 0. Now the lease
is short and renewed while the crawl progresses, so the source is free within about a
minute of the kill (CRAWL_LOCK_SECONDS, 20 s in this test); `publisher ingest` on the busy
source exits non-zero naming the holder and the lease's end; the dead crawl's row is
closed as failed; and the next crawl applies each change once.
"""

from __future__ import annotations

import datetime as dt
import signal
import time

import pytest
from sqlalchemy import func, select

from publisher import ingest
from publisher.db import session_scope, utcnow
from publisher.demo.generate import touch
from publisher.ingest import CrawlBusy, add_source, crawl_source
from publisher.ingest.lease import ABANDONED
from publisher.models import Change, ChangeKind, Crawl, CrawlStatus, Entry, Source
from tests.faults.crawl_servers import (
    FAST_CRAWL,
    directory_of,
    fault_crawl_env,  # noqa: F401 - fixture
    run_publisher,
    wait_until,
)
from tests.worker import celery_worker, sender, worker_env

pytestmark = pytest.mark.date_sensitive

COUNT = 30
TOUCHED = 8


def _source() -> Source:
    with session_scope() as session:
        source = session.scalars(select(Source)).one()
        session.expunge(source)
        return source


def _crawls(status: CrawlStatus) -> list[Crawl]:
    with session_scope() as session:
        rows = list(session.scalars(select(Crawl).where(Crawl.status == status)))
        session.expunge_all()
        return rows


def test_a_killed_crawl_worker_frees_its_source_within_a_minute(
    fault_crawl_env,  # noqa: F811
    database_url,
    redis_prefix,
    tmp_path,
):
    today = dt.date.today()
    server = directory_of(COUNT, today)
    try:
        with session_scope() as session:
            add_source(session, "north", server.url)
        assert crawl_source("north", notify=False).status == "complete"  # the baseline
        with server.state.lock:
            for svc in server.state.services[:TOUCHED]:
                touch(svc, today, "New: sessions now also on Saturday mornings.")
            server.state.delay = 1.0  # slow enough to be killed in the middle
        server.state.hits.clear()

        env = worker_env(database_url, redis_prefix, tmp_path / "w", **FAST_CRAWL)
        log = tmp_path / "worker.log"
        with celery_worker(env, queues="crawl", log=log) as worker:
            sender(redis_prefix).send_task("publisher.crawl.crawl_source", args=["north"])

            def fetching_details() -> bool:
                return (
                    sum(n for p, n in server.state.hits.items() if p.startswith("/services/")) >= 2
                )

            assert wait_until(fetching_details, 60), log.read_text()[-3000:]
            assert _crawls(CrawlStatus.RUNNING)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            killed_at = time.monotonic()
            killed_pid = worker.pid

        # Someone runs the crawl by hand at once: refused, in plain words, exit non-zero.
        busy = run_publisher("ingest", "north", database_url=database_url, data_dir=tmp_path)
        assert busy.returncode != 0
        assert "celery on " in busy.stderr and f"process {killed_pid}" in busy.stderr
        assert "holds it until" in busy.stderr and "UTC" in busy.stderr
        source = _source()
        assert source.lock_expires_at is not None
        assert source.lock_expires_at - utcnow() <= dt.timedelta(
            seconds=int(FAST_CRAWL["CRAWL_LOCK_SECONDS"])
        )
        with session_scope() as session:
            assert ingest.close_abandoned(session) == 0  # its lease is still live

        # The source is free again once the lease runs out; the sweeper closes the row.
        def lease_gone() -> bool:
            expires = _source().lock_expires_at
            return expires is None or expires < utcnow()

        assert wait_until(lease_gone, 90, every=0.5) is not None
        with session_scope() as session:
            assert ingest.close_abandoned(session) == 1

        def crawled() -> bool:
            try:
                return crawl_source("north", notify=False).status == "complete"
            except CrawlBusy:
                return False

        assert wait_until(crawled, 90, every=1.0) is not None
        recovery = time.monotonic() - killed_at
        assert recovery < 90, recovery
    finally:
        server.stop()

    (dead,) = _crawls(CrawlStatus.INCOMPLETE)
    assert dead.error == ABANDONED and dead.finished_at is not None
    assert not _crawls(CrawlStatus.RUNNING)
    with session_scope() as session:
        kinds = list(session.scalars(select(Change.kind)))
        # Each change once: the killed crawl wrote nothing, the next one wrote it all.
        assert kinds.count(ChangeKind.UPDATED) == TOUCHED
        assert ChangeKind.REMOVED not in kinds
        assert session.scalar(select(func.count()).where(Entry.present)) == COUNT
        assert session.scalar(select(Source.lock_token)) is None
