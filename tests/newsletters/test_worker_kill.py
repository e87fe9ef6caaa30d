"""A real Celery worker on the real Redis is killed (SIGKILL, whole process group) in
the middle of an edition; the sweeper gives back its claims and re-queues the work; a
second worker finishes. Every recipient gets the edition exactly once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import func, select

from publisher.config import get_settings, reset_settings
from publisher.db import session_scope
from publisher.models import Delivery, DeliveryStatus, Frequency
from publisher.newsletters import sweeping
from publisher.newsletters.building import build_edition
from tests.conftest import TEST_REDIS_URL
from tests.mailsink import MailSink
from tests.newsletters.helpers import change, source, subscriber

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 27, 7, 30, tzinfo=dt.UTC)
PEOPLE = 240


def _worker(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "publisher",
            "worker",
            "-Q",
            "newsletters",
            "-c",
            "2",
            "--pool",
            "prefork",
            "-n",
            f"{name}@%h",
            "-l",
            "warning",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def _counts() -> dict[DeliveryStatus, int]:
    with session_scope() as session:
        return dict(
            session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
            .tuples()
            .all()
        )


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {_counts()}")
        time.sleep(0.1)


def test_killed_worker_mid_edition_no_duplicates_no_one_missed(
    db: Any, database_url: str, redis_prefix: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DELIVERY_LEASE_SECONDS", "5")
    monkeypatch.setenv("EDITION_BATCH_SIZE", "20")
    reset_settings()  # settings are read once (tests/settings_env.py)
    with session_scope() as session:
        src = source(session)
        change(
            session,
            src,
            "a",
            "Messy Play",
            at=NOW - dt.timedelta(days=1),
            minimum_age=0,
            maximum_age=5,
        )
        change(
            session,
            src,
            "b",
            "Youth Club",
            at=NOW - dt.timedelta(days=1),
            minimum_age=11,
            maximum_age=18,
        )
        addresses = [f"p{i}@example.org" for i in range(PEOPLE)]
        for i, address in enumerate(addresses):
            subscriber(session, address, age_bands=[["0-5"], ["11-16"], []][i % 3])
    with session_scope() as session:
        built = build_edition(session, Frequency.WEEKLY, now=NOW, settings=get_settings().editions)
    assert built.recipients == PEOPLE and built.edition_id is not None

    producer = Celery("test-producer", broker=TEST_REDIS_URL)
    producer.conf.broker_transport_options = {"global_keyprefix": redis_prefix}
    producer.conf.task_routes = {"publisher.newsletters.*": {"queue": "newsletters"}}

    def queue(edition_id: int, ids: list[int]) -> None:
        producer.send_task(
            "publisher.newsletters.send_batch", args=[edition_id, ids], queue="newsletters"
        )

    with MailSink() as sink:
        sink.delay = 0.02  # slow enough that the kill lands mid-edition
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": TEST_REDIS_URL,
            "CELERY_KEY_PREFIX": redis_prefix,
            "SMTP_URL": sink.url,
            "PUBLISHER_DATA_DIR": str(tmp_path / "worker"),
            "SECRET_KEY": "kill-test-secret-0123456789abcdef0123456789",
            "EDITION_BATCH_SIZE": "20",
            "DELIVERY_LEASE_SECONDS": "5",
        }
        env.pop("NOTIFY_API_KEY", None)
        with session_scope() as session:
            sweeping.dispatch(session, built.edition_id, queue)
        first = _worker(env, "first")
        try:
            _wait(lambda: len(sink.messages) >= 40, 60, "the first worker to get going")
            _kill(first)
        finally:
            if first.poll() is None:
                _kill(first)
        stopped_at = len(sink.messages)
        assert stopped_at < PEOPLE, "the worker finished before it was killed"
        in_flight = _counts().get(DeliveryStatus.SENDING, 0)
        time.sleep(5.5)  # let the claims of the dead worker pass their lease
        swept = sweeping.sweep(queue)
        assert swept.released == in_flight
        assert swept.requeued_editions == [built.edition_id]
        second = _worker(env, "second")
        try:
            _wait(lambda: _counts().get(DeliveryStatus.SENT, 0) == PEOPLE, 90, "the second worker")
            time.sleep(0.5)  # any straggling duplicate would arrive now
        finally:
            _kill(second)
        received = sink.by_recipient()
        missing = sorted(set(addresses) - set(received))
        assert not missing, (missing, stopped_at, in_flight, swept)  # no one missed
        assert all(len(msgs) == 1 for msgs in received.values())  # nobody twice
        assert len(sink.messages) == PEOPLE
    with session_scope() as session:
        swept = sweeping.sweep(queue)
    assert swept.finished_editions == [built.edition_id]
