"""The hook end to end: a task sent by name (as ingest sends it) through the real Redis,
routed to the social queue, run by a real Celery worker, drafts the post."""

from __future__ import annotations

import time

import redis
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.celery import app
from publisher.models import ChangeKind, Platform, Post
from tests.conftest import TEST_REDIS_URL
from tests.factories import make_entry, make_source, record_change
from tests.social.conftest import make_account


def test_hook_sent_by_name_drafts_through_a_worker(
    session: Session, redis_prefix: str, redis_client: redis.Redis
) -> None:
    make_account(session, Platform.MASTODON)
    source = make_source(session)
    change = record_change(
        session, make_entry(session, source, "w", "Worker Club"), ChangeKind.ADDED
    )
    session.commit()
    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    app.conf.update(
        broker_url=TEST_REDIS_URL,
        broker_transport_options={**(saved[1] or {}), "global_keyprefix": redis_prefix},
    )
    app.loader.import_default_modules()
    try:
        with start_worker(
            app, pool="solo", queues=["social"], perform_ping_check=False, shutdown_timeout=10
        ):
            app.send_task("publisher.social.draft_posts", args=[[change.id]])
            app.send_task("publisher.social.draft_posts", args=[[change.id]])  # twice
            # Wait until the worker has taken both messages off the social queue; leaving
            # the block then lets it finish the one in hand.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if (
                    redis_client.llen(f"{redis_prefix}social") == 0
                    and session.scalars(select(Post.id)).first()
                ):
                    break
                session.expire_all()
                time.sleep(0.1)
    finally:
        app.conf.update(broker_url=saved[0], broker_transport_options=saved[1])
    session.expire_all()
    found = list(session.scalars(select(Post)))
    assert [p.change_ids for p in found] == [[change.id]]
    assert found[0].text.startswith("New on the Local Offer: Worker Club.")
