"""Two processes writing at once (issue 16, points 1 and 4).

On SQLite in WAL mode a transaction that read first and then writes fails at once with
"database is locked" if another process committed in between, whatever the busy
timeout. Every transaction now begins as a write transaction (BEGIN IMMEDIATE), so it
waits instead. The long writes (crawl apply, feed rebuild, drafting, retention) run here
beside a second process that writes all the time; none may fail. On PostgreSQL the same
tests check that nothing changed there.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from publisher import audit
from publisher.db import session_scope, utcnow
from publisher.demo.directory import DirectoryServer, DirectoryState
from publisher.demo.generate import make_services
from publisher.feeds import service as feeds
from publisher.ingest import add_source, crawl_source
from publisher.models import (
    AuditEvent,
    ChangeKind,
    Entry,
    FeedDocument,
    Platform,
    Post,
    Subscriber,
    SubscriberStatus,
)
from publisher.social.drafting import draft_posts
from publisher.subscriptions.retention import apply_retention
from tests.conftest import backend
from tests.factories import make_entry, make_social_account, make_source, record_change
from tests.faults.crawl_servers import fault_crawl_env  # noqa: F401 - fixture
from tests.faults.writers import busy_writer

pytestmark = pytest.mark.date_sensitive


@pytest.mark.skipif(backend() != "sqlite", reason="the cause is SQLite's own")
def test_the_cause_a_transaction_that_read_first_cannot_become_a_writer(
    database_url: str, db: object
) -> None:
    """The fault as found, shown on bare sqlite3 connections: BEGIN (deferred), read,
    another connection commits a write, then our write fails with no wait at all."""
    path = make_url(database_url).database
    assert path
    first = sqlite3.connect(path, isolation_level=None, timeout=30)
    second = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        first.execute("BEGIN")
        first.execute("SELECT count(*) FROM audit_events").fetchall()
        second.execute("BEGIN IMMEDIATE")
        second.execute("DELETE FROM audit_events WHERE id < 0")
        second.execute(
            "INSERT INTO app_settings (key, value, updated_at) VALUES ('probe', '1', '2026-01-01')"
        )
        second.execute("COMMIT")
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            first.execute("DELETE FROM app_settings WHERE key = 'probe'")
        assert time.monotonic() - started < 5  # refused at once: the timeout is 30 s
        first.execute("ROLLBACK")
    finally:
        first.close()
        second.execute("DELETE FROM app_settings WHERE key = 'probe'")
        second.close()


def test_a_savepoint_rolled_back_with_its_transaction_leaves_nothing(db: object) -> None:
    """Before the fix, on SQLite, a SAVEPOINT ran outside any transaction and its RELEASE
    committed: an edition and its items stayed behind without their deliveries."""
    with pytest.raises(RuntimeError), session_scope() as session:
        session.scalar(select(func.count()).select_from(AuditEvent))
        with session.begin_nested():
            audit.record(session, None, "test.savepoint", "probe", 1, None, None)
        raise RuntimeError("the rest of the unit of work failed")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_read_then_write_waits_beside_a_busy_writer(
    db: object, database_url: str, tmp_path: Path
) -> None:
    with busy_writer(database_url, tmp_path):
        for i in range(40):
            with session_scope() as session:
                # Stream a read and write while it is open, as the edition build did with
                # its subscribers: the read's snapshot must become a write.
                rows = session.execute(select(AuditEvent.id).execution_options(yield_per=5))
                rows.fetchmany(1)
                time.sleep(0.01)
                audit.record(session, None, "test.main", "main", i, None, None)
                session.flush()
                rows.close()
    with session_scope() as session:
        mine = session.scalar(select(func.count()).where(AuditEvent.action == "test.main"))
    assert mine == 40


def test_long_writes_beside_a_busy_writer(
    fault_crawl_env: object,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    today = dt.date.today()
    server = DirectoryServer(
        DirectoryState(services=make_services(60, seed=16, today=today), version="3")
    ).start()
    try:
        with session_scope() as session:
            add_source(session, "north", server.url)
            for platform in Platform:
                make_social_account(session, platform, "Local Offer")
            demo = make_source(session, "demo")
            news = [
                record_change(
                    session, make_entry(session, demo, f"n{i}", f"Club {i}"), ChangeKind.ADDED
                ).id
                for i in range(5)
            ]
            # One request expired long ago, for retention to delete.
            session.add(
                Subscriber(
                    email="old-request@example.org",
                    status=SubscriberStatus.PENDING,
                    requested_at=utcnow() - dt.timedelta(days=30),
                )
            )
        with busy_writer(database_url, tmp_path):
            crawled = crawl_source("north", notify=False)  # the crawl's apply
            assert crawled.status == "complete", crawled
            rebuilt = feeds.rebuild_feeds()  # feed rebuild
            drafted = draft_posts(news)  # drafting
            with session_scope() as session:
                retained = apply_retention(session)  # retention
    finally:
        server.stop()
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 60 + len(news)
        assert (session.scalar(select(func.count()).select_from(FeedDocument)) or 0) >= 1
        assert session.scalar(select(func.count()).select_from(Post)) == len(drafted) > 0
    assert rebuilt.newest_change_id >= max(news)
    assert retained.expired_deleted + retained.expired_ended == 1
