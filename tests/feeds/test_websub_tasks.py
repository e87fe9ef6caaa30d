"""WebSub notifications to a hub on loopback, and the Celery task and beat entry."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

import celeryconfig
from publisher.celery import app as celery_app
from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.feeds.websub import HubError, notify_pending
from publisher.models import FeedDocument
from publisher.tasks.feeds import rebuild_feeds as rebuild_task
from publisher.topics import NEEDS
from tests.feeds.conftest import BASE_URL, add_change, rebuild


def pending_keys() -> set[str]:
    with session_scope() as session:
        return set(
            session.scalars(select(FeedDocument.key).where(FeedDocument.hub_pending.is_(True)))
        )


def test_hub_is_linked_and_told_about_changed_feeds(client, feed_env, hub):
    feed_env.setenv("WEBSUB_HUB_URL", hub.url)
    reset_settings()
    add_change("added", "Swim club", minimum_age=16, maximum_age=20)
    rebuild()
    # First build of the one-topic feeds: nobody can be subscribed yet, nothing to tell.
    assert hub.received == []
    response = client.get("/feeds/changes.atom?age=16-25")
    assert response.headers["Link"] == (
        f'<{BASE_URL}/feeds/changes.atom?age=16-25>; rel="self", <{hub.url}>; rel="hub"'
    )
    add_change("added", "Drama club", minimum_age=16, maximum_age=20)
    result = rebuild()
    told = {r["hub.url"] for r in hub.received}
    assert all(r["hub.mode"] == "publish" for r in hub.received)
    # Drama club names no need and no area: like emails, the feeds count it as open to
    # all, so each need's feed and the area's feed hear of it too.
    queries = ["", "?age=16-25", *(f"?need={n}" for n in NEEDS), "?locality=out-of-area"]
    assert told == {
        f"{BASE_URL}/feeds/changes.{fmt}{query}"
        for fmt in ("rss", "atom", "json")
        for query in queries
    }
    assert len(result.rewritten) == len(told)
    assert pending_keys() == set()
    # A rebuild with nothing new tells the hub nothing.
    hub.received.clear()
    rebuild()
    assert hub.received == []


def test_a_hub_that_is_down_is_told_later(client, feed_env, hub):
    feed_env.setenv("WEBSUB_HUB_URL", hub.url)
    reset_settings()
    add_change()
    rebuild()
    add_change("added", "Another club")
    hub.status = 503
    with pytest.raises(HubError) as info:
        rebuild()
    assert info.value.retryable
    # The feeds were rebuilt and stored all the same; only the ping is owed.
    waiting = pending_keys()
    assert "atom:" in waiting
    hub.status = 204
    hub.received.clear()
    notify_pending()
    assert {r["hub.url"] for r in hub.received} >= {f"{BASE_URL}/feeds/changes.atom"}
    assert pending_keys() == set()


def test_a_hub_that_refuses_is_not_retried_forever(client, feed_env, hub):
    feed_env.setenv("WEBSUB_HUB_URL", hub.url)
    reset_settings()
    add_change()
    rebuild()
    add_change("added", "Another club")
    hub.status = 400
    rebuild()  # a refusal is logged, not raised: asking again would not change the answer
    assert hub.received and pending_keys() == set()


def test_task_is_registered_routed_and_swept_by_beat(feed_env):
    task = celery_app.tasks["publisher.feeds.rebuild_feeds"]
    assert task.name == rebuild_task.name == "publisher.feeds.rebuild_feeds"
    route = celery_app.amqp.router.route({}, "publisher.feeds.rebuild_feeds")
    assert route["queue"].name == "feeds"
    beat = [
        e
        for e in celeryconfig.beat_schedule.values()
        if e["task"] == "publisher.feeds.rebuild_feeds"
    ]
    assert len(beat) == 1 and beat[0]["schedule"] <= 300


def test_task_rebuilds_and_is_idempotent(feed_env):
    newest = add_change()
    # Called in-process (the task body is one call to the feeds service).
    assert rebuild_task() == newest
    with session_scope() as session:
        built = set(session.scalars(select(FeedDocument.built_from_change_id)))
        etags = {
            r.key: r.etag for r in session.execute(select(FeedDocument.key, FeedDocument.etag))
        }
    assert built == {newest}
    assert rebuild_task() == newest
    with session_scope() as session:
        assert {
            r.key: r.etag for r in session.execute(select(FeedDocument.key, FeedDocument.etag))
        } == etags


def test_cli_rebuilds_feeds(feed_env):
    from click.testing import CliRunner

    from publisher.cli import main

    newest = add_change()
    result = CliRunner().invoke(main, ["feeds", "rebuild"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.output)
    assert line["newest_change_id"] == newest and line["built"] > 0
    again = json.loads(CliRunner().invoke(main, ["feeds", "rebuild"]).output)
    assert again["built"] == 0 and again["rewritten"] == 0


def test_rebuilds_that_meet_do_the_work_once(feed_env):
    import threading

    add_change()
    rebuild()
    add_change("added", "Another club")
    results = []
    errors = []

    def run() -> None:
        try:
            results.append(rebuild())
        except Exception as exc:  # SQLite may refuse the second writer: the task retries
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    rewritten = [len(r.rewritten) for r in results]
    assert sum(1 for n in rewritten if n) == 1, (rewritten, errors)
    for exc in errors:
        assert "locked" in str(exc) or "busy" in str(exc).lower()
