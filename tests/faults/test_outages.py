"""An edition and a social post across outages of what they run on (issue 10, points 2,
5 and 6): the broker (a redis-server of the test's own, killed and restarted empty), the
database (a PostgreSQL cluster of the test's own, stopped cleanly or crashed) and the
worker killed in the middle of publishing a post. Duplicates 0, missed 0, and recovery
under 90 s from the end of the fault.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from publisher import db as dbmod
from publisher.config import reset_settings
from publisher.db import session_scope, utcnow
from publisher.migrate import upgrade
from publisher.models import DeliveryStatus, Frequency, Platform, Post, PostState, Role, User
from publisher.newsletters.editions import run_edition
from publisher.social import approve
from tests.conftest import TEST_REDIS_URL, backend
from tests.factories import drafted_post, make_social_account
from tests.faults.editions_env import (
    RECOVERY_BOUND,
    env_for,
    kill,
    ledger,
    outcome,
    processes,
    producer,
    queue_with,
    seed,
    settled,
    small_batches,
    start_beat,
    start_worker,
    wait_for,
)
from tests.faults.own_servers import OwnPostgres, own_postgres, own_redis
from tests.mailsink import MailSink
from tests.social.servers import MastodonHandler, serve

pytestmark = pytest.mark.date_sensitive
PEOPLE = 300


def test_broker_lost_mid_edition(
    db: Any, database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """Redis dies with the queued batches in it and comes back empty: the sweeper finds
    the edition's pending deliveries idle and queues them again."""
    addresses = seed(PEOPLE)
    log = tmp_path / "celery.log"
    with own_redis() as broker, MailSink() as sink, processes() as procs:
        sink.delay = 0.03
        env = env_for(database_url, broker.url, redis_prefix, sink.url, tmp_path / "w")
        procs += [start_worker(env, log, "w"), start_beat(env, log, tmp_path / "beat")]
        result = run_edition(
            Frequency.WEEKLY,
            queue_with(producer(broker.url, redis_prefix)),
            settings=small_batches(),
        )
        assert result.recipients == PEOPLE
        wait_for(lambda: len(sink.messages) >= 40, 60, "the worker to get going", log)
        broker.kill()
        time.sleep(3)
        broker.start()
        back = time.monotonic()
        assert not settled(PEOPLE), "the edition finished before the broker went"
        wait_for(lambda: settled(PEOPLE), RECOVERY_BOUND, "the rest of the edition", log)
        recovery = time.monotonic() - back
        time.sleep(1)
        got = outcome(sink, addresses)
    assert got.duplicates == 0 and got.missed == [], got
    assert ledger() == {DeliveryStatus.SENT: PEOPLE}
    assert recovery < RECOVERY_BOUND


@pytest.fixture()
def own_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[OwnPostgres]:
    """The whole test (this process, worker and beat) on a cluster of its own."""
    with own_postgres() as server:
        engine = dbmod.make_engine(server.url)
        upgrade(engine)
        monkeypatch.setenv("DATABASE_URL", server.url)
        monkeypatch.setenv("PUBLISHER_DATA_DIR", str(tmp_path / "data"))
        reset_settings()
        dbmod.set_engine(engine)
        try:
            yield server
        finally:
            dbmod.set_engine(None)
            reset_settings()


@pytest.mark.skipif(backend() != "postgresql", reason="SQLite is embedded: nothing to stop")
@pytest.mark.parametrize("mode", ["fast", "immediate"], ids=["stopped", "crashed"])
def test_database_stopped_or_crashed_mid_edition(
    own_database: OwnPostgres, redis_prefix: str, tmp_path: Path, mode: str
) -> None:
    """Every "sent" mark is committed durably before its message's final ".", so a
    crash loses none and the sweeper resends nothing; tasks that met the outage retry
    with backoff, and claims left behind lapse within the lease."""
    addresses = seed(PEOPLE)
    log = tmp_path / "celery.log"
    with MailSink() as sink, processes() as procs:
        sink.delay = 0.03
        env = env_for(own_database.url, TEST_REDIS_URL, redis_prefix, sink.url, tmp_path / "w")
        procs += [start_worker(env, log, "w"), start_beat(env, log, tmp_path / "beat")]
        result = run_edition(
            Frequency.WEEKLY,
            queue_with(producer(TEST_REDIS_URL, redis_prefix)),
            settings=small_batches(),
        )
        assert result.recipients == PEOPLE
        wait_for(lambda: len(sink.messages) >= 60, 60, "the worker to get going", log)
        own_database.stop(mode)
        time.sleep(3)
        own_database.start()
        back = time.monotonic()
        dbmod.get_engine().dispose()  # this process's connections died with the server
        assert not settled(PEOPLE), "the edition finished before the database went"
        wait_for(lambda: settled(PEOPLE), RECOVERY_BOUND, "the rest of the edition", log)
        recovery = time.monotonic() - back
        time.sleep(1)
        got = outcome(sink, addresses)
    assert got.duplicates == 0 and got.missed == [], got
    assert ledger() == {DeliveryStatus.SENT: PEOPLE}
    assert recovery < RECOVERY_BOUND


def test_worker_killed_mid_publish(
    db: Any,
    database_url: str,
    redis_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The platform has stored the post but the worker dies before it hears back: the
    post's short claim lapses, beat's next publish run takes it, and the adapter finds
    the earlier copy (same idempotency key) instead of posting twice."""
    monkeypatch.setenv("SECRET_KEY", "fault-test-secret-0123456789abcdef0123456789")
    reset_settings()
    log = tmp_path / "celery.log"
    with serve(MastodonHandler, "mastodon-token-123456") as platform:
        with session_scope() as session:
            approver = User(email="approver@example.org", password_hash="x", role=Role.APPROVER)
            session.add(approver)
            account = make_social_account(
                session,
                Platform.MASTODON,
                settings={"api_base_url": platform.url, "read_timeout": 60},
            )
            session.commit()
            post = drafted_post(session, account)
            approve(session, approver, post)
            # Due now (approval gives it the account's next free slot, maybe later).
            post.publish_at = utcnow() - dt.timedelta(minutes=1)
            post_id = post.id
        platform.delay_after_accept = 30.0  # stored, then a long wait before the answer
        with MailSink() as sink, processes() as procs:
            env = env_for(database_url, TEST_REDIS_URL, redis_prefix, sink.url, tmp_path / "w")
            first = start_worker(env, log, "first", queues="social")
            procs += [first, start_beat(env, log, tmp_path / "beat")]
            wait_for(lambda: len(platform.posts) == 1, 60, "the post to reach the platform", log)
            kill(first)
            killed = time.monotonic()
            platform.delay_after_accept = 0.0
            procs.append(start_worker(env, log, "second", queues="social"))

            def published() -> bool:
                with session_scope() as session:
                    return session.get_one(Post, post_id).state is PostState.PUBLISHED

            wait_for(published, RECOVERY_BOUND, "the post to be published", log)
            recovery = time.monotonic() - killed
    assert len(platform.posts) == 1  # duplicates 0
    with session_scope() as session:
        found = session.get_one(Post, post_id)
        assert found.platform_post_id == platform.posts[0]["id"]  # missed 0
    assert recovery < RECOVERY_BOUND
