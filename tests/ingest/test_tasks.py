"""Crawls through a real Celery worker on the real Redis."""

from __future__ import annotations

import importlib

from sqlalchemy import func, select

from publisher.db import session_scope
from publisher.ingest import add_source
from publisher.models import Crawl, CrawlStatus
from tests.worker import celery_worker, sender, wait_for, worker_env


def test_beat_task_fans_out_a_crawl_per_source_to_a_real_worker(
    crawl_env, directory, database_url, redis_prefix, tmp_path
):
    with session_scope() as session:
        add_source(session, "north", directory.url)
        add_source(session, "south", directory.url)
    env = worker_env(database_url, redis_prefix, tmp_path / "w", CRAWL_MIN_REQUEST_INTERVAL="0")
    with celery_worker(env, log=tmp_path / "worker.log"):
        sender(redis_prefix).send_task("publisher.crawl.crawl_all")

        def both_done() -> bool:
            with session_scope() as session:
                return (
                    session.scalar(select(func.count()).where(Crawl.status == CrawlStatus.COMPLETE))
                    == 2
                )

        assert wait_for(both_done), (tmp_path / "worker.log").read_text()[-3000:]


def test_beat_schedule_reads_the_crawl_interval(monkeypatch):
    monkeypatch.setenv("CRAWL_INTERVAL_MINUTES", "15")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    from publisher.config import reset_settings

    reset_settings()
    import celeryconfig

    module = importlib.reload(celeryconfig)
    assert module.beat_schedule["crawl-all-sources"]["schedule"] == 900.0
    assert module.task_acks_late and module.task_reject_on_worker_lost
    assert module.worker_prefetch_multiplier == 1
    assert {q.name for q in module.task_queues} >= {"crawl", "newsletters", "feeds", "social"}
    reset_settings()
