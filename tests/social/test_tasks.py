"""The Celery tasks keep the names the ingest hook and beat use, and do their one job."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import celeryconfig
from publisher.celery import app
from publisher.models import ChangeKind, Platform, Post
from publisher.tasks import social as tasks
from tests.factories import make_entry, make_source, record_change
from tests.social.conftest import make_account


def test_task_names_routes_and_beat() -> None:
    app.loader.import_default_modules()
    for name in (
        "publisher.social.draft_posts",
        "publisher.social.sweep",
        "publisher.social.publish_due",
    ):
        assert name in app.tasks
        assert app.amqp.router.route({}, name)["queue"].name == "social"
    beat = {entry["task"]: entry["schedule"] for entry in celeryconfig.beat_schedule.values()}
    # Often enough that a post a dead worker held goes out within about a minute.
    assert beat["publisher.social.publish_due"] <= 30.0
    assert "publisher.social.sweep" in beat


def test_hook_task_drafts_and_is_idempotent(session: Session) -> None:
    make_account(session, Platform.MASTODON)
    source = make_source(session)
    change = record_change(session, make_entry(session, source, "h", "Hook Club"), ChangeKind.ADDED)
    session.commit()
    # Called as the worker calls it (the task body), with JSON-like arguments.
    assert tasks.draft_posts([change.id]) == 1
    assert tasks.draft_posts([change.id]) == 0
    assert tasks.sweep() == 0
    assert tasks.publish_due() == {}  # approved posts only; this one is a draft
    assert [p.change_ids for p in session.scalars(select(Post))] == [[change.id]]
