"""The crawl's hook, sent by name to a real Celery worker on the real Redis."""

from __future__ import annotations

from sqlalchemy import select

from publisher.db import session_scope
from publisher.models import FeedDocument
from tests.feeds.conftest import BASE_URL, add_change
from tests.worker import celery_worker, sender, wait_for, worker_env


def built_from() -> set[int]:
    with session_scope() as session:
        return set(session.scalars(select(FeedDocument.built_from_change_id)))


def test_rebuild_feeds_sent_by_name_runs_in_a_worker(
    feed_env, database_url, redis_prefix, tmp_path, hub
):
    first = add_change("added", "Swim club")
    env = worker_env(
        database_url, redis_prefix, tmp_path / "w", PUBLIC_BASE_URL=BASE_URL, WEBSUB_HUB_URL=hub.url
    )
    log = tmp_path / "worker.log"
    with celery_worker(env, queues="feeds", log=log):
        client = sender(redis_prefix)
        # As publisher.ingest sends it after a crawl commits: by name, no arguments.
        client.send_task("publisher.feeds.rebuild_feeds", queue="feeds")
        assert wait_for(lambda: built_from() == {first}), log.read_text()[-3000:]
        second = add_change("added", "Drama club")
        # Delivered twice: the second finds nothing to do.
        client.send_task("publisher.feeds.rebuild_feeds", queue="feeds")
        client.send_task("publisher.feeds.rebuild_feeds", queue="feeds")
        assert wait_for(lambda: built_from() == {second}), log.read_text()[-3000:]
        assert wait_for(
            lambda: any(r["hub.url"] == f"{BASE_URL}/feeds/changes.atom" for r in hub.received)
        )
    announced = [r["hub.url"] for r in hub.received]
    assert len(announced) == len(set(announced))  # each changed feed announced once
