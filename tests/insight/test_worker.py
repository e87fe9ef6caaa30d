"""End to end: a crawl through a real Celery worker queues the summary upkeep, and the
new change reaches /changes and today's freshness reaches /health."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from publisher.db import session_scope
from publisher.demo.directory import DirectoryServer, DirectoryState
from publisher.demo.generate import make_services, touch
from publisher.ingest import add_source
from publisher.insight import memo
from publisher.models import Entry, InsightBuilt, InsightChange, InsightSnapshot
from publisher.web import create_app
from tests.ingest.conftest import crawl_env as crawl_env
from tests.worker import celery_worker, sender, wait_for, worker_env

pytestmark = pytest.mark.date_sensitive


@pytest.fixture()
def directory() -> Iterator[DirectoryServer]:
    """Services checked recently by the clock the worker runs on (the real one, or a
    year ahead in the date check), so that none is stale and every change is news."""
    state = DirectoryState(services=make_services(10, seed=7, today=dt.date.today()), version="3")
    server = DirectoryServer(state).start()
    yield server
    server.stop()


def test_crawls_keep_the_summaries_current(
    crawl_env: Any, directory: Any, database_url: str, redis_prefix: str, tmp_path: Any
) -> None:
    with session_scope() as session:
        add_source(session, "north", directory.url)
    env = worker_env(database_url, redis_prefix, tmp_path / "w", CRAWL_MIN_REQUEST_INTERVAL="0")
    log = tmp_path / "worker.log"
    with celery_worker(env, log=log):

        def crawled() -> bool:
            with session_scope() as session:
                return session.scalar(select(func.count()).select_from(Entry)) == 10

        # The first crawl is a baseline: it announces nothing, so it queues nothing
        # (beat's refresh picks its figures up); the second has a change to tell.
        sender(redis_prefix).send_task("publisher.crawl.crawl_all")
        assert wait_for(crawled), log.read_text()[-3000:]
        svc = directory.state.services[3]
        svc["name"] = "Renamed sensory group"
        touch(svc, dt.date.today() + dt.timedelta(days=1))
        sender(redis_prefix).send_task("publisher.crawl.crawl_all")

        def summarised() -> bool:
            with session_scope() as session:
                fresh = session.scalars(
                    select(InsightSnapshot).where(InsightSnapshot.metric == "freshness")
                ).first()
                return bool(session.scalars(select(InsightChange.title)).first() and fresh)

        assert wait_for(summarised), log.read_text()[-3000:]

        def health_kept() -> bool:
            # The worker builds /health and the reach figures for the summaries it just
            # committed.
            with session_scope() as session:
                generation = memo.generation(session)
                return all(
                    (kept := session.get(InsightBuilt, name)) is not None
                    and kept.generation == generation
                    for name in ("health", "reach")
                )

        assert wait_for(health_kept), log.read_text()[-3000:]
    with session_scope() as session:
        kept = session.get(InsightBuilt, "health")
        assert kept is not None and "How healthy is the Local Offer?" in kept.body
    page = create_app({"TESTING": True}).test_client().get("/changes").get_data(as_text=True)
    assert "Updated: Renamed sensory group" in page
