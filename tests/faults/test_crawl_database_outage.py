"""A crawl task that meets a database outage retries with backoff (issue 10, point 5).

PostgreSQL only: the worker reaches the database through a relay this test can shut,
so the outage is real (connections refused and cut) without stopping the shared server.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from publisher.db import session_scope
from publisher.ingest import add_source, crawl_source
from publisher.models import Crawl, CrawlStatus
from tests.conftest import backend
from tests.faults.crawl_servers import (
    FAST_CRAWL,
    TcpGate,
    directory_of,
    fault_crawl_env,  # noqa: F401 - fixture
    wait_until,
)
from tests.worker import celery_worker, sender, worker_env

pytestmark = [
    pytest.mark.date_sensitive,
    pytest.mark.skipif(backend() != "postgresql", reason="needs a database server to cut off"),
]


def test_a_crawl_task_retries_through_a_database_outage(
    fault_crawl_env,  # noqa: F811
    database_url,
    redis_prefix,
    tmp_path,
):
    server = directory_of(10, dt.date.today())
    url = make_url(database_url)
    gate = TcpGate((url.host or "127.0.0.1", url.port or 5432))
    try:
        with session_scope() as session:
            add_source(session, "north", server.url)
        assert crawl_source("north", notify=False).status == "complete"
        gated = url.set(host="127.0.0.1", port=gate.port).render_as_string(hide_password=False)
        env = worker_env(gated, redis_prefix, tmp_path / "w", **FAST_CRAWL)
        log = tmp_path / "worker.log"
        with celery_worker(env, queues="crawl", log=log):
            sender(redis_prefix).send_task("publisher.crawl.crawl_source", args=["north"])
            assert wait_until(lambda: "Retry in" in log.read_text(), 60), log.read_text()[-3000:]
            gate.open.set()
            reopened = time.monotonic()

            def done() -> bool:
                with session_scope() as session:
                    return (
                        session.scalar(
                            select(func.count()).where(Crawl.status == CrawlStatus.COMPLETE)
                        )
                        == 2
                    )

            assert wait_until(done, 90), log.read_text()[-3000:]
            assert time.monotonic() - reopened < 90
    finally:
        gate.close()
        server.stop()
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(Crawl.status != CrawlStatus.COMPLETE)) == 0
