"""An edition under faults, end to end (issue 10, points 1, 5 and 6): real Celery worker
and beat processes on Redis, a loopback SMTP server that misbehaves on purpose, and the
real database. Each scenario asserts duplicates 0, missed 0 and recovery under 90 s.

Beat runs for real, with the project's schedule: its sweeper (every 15 s) takes back the
claims of a dead worker once their 45 s lease lapses and re-queues the work.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from publisher.db import session_scope
from publisher.models import DeliveryStatus, Edition, Frequency, Subscriber, SubscriberStatus
from publisher.newsletters.editions import run_edition, summaries
from tests.conftest import TEST_REDIS_URL
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
from tests.faults.smtp_faults import FaultySink

pytestmark = pytest.mark.date_sensitive
PEOPLE = 300


def _start(
    database_url: str, redis_prefix: str, sink: FaultySink, tmp_path: Path, **extra: str
) -> dict[str, str]:
    return env_for(database_url, TEST_REDIS_URL, redis_prefix, sink.url, tmp_path / "w", **extra)


def _build_and_queue(redis_prefix: str) -> int:
    result = run_edition(
        Frequency.WEEKLY,
        queue_with(producer(TEST_REDIS_URL, redis_prefix)),
        settings=small_batches(),
    )
    assert result.edition_id is not None and result.recipients == PEOPLE, result
    return result.edition_id


def test_worker_killed_mid_edition(
    db: Any, database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    addresses = seed(PEOPLE)
    log = tmp_path / "celery.log"
    with FaultySink() as sink, processes() as procs:
        sink.delay = 0.03  # slow enough for the kill to land mid-edition
        env = _start(database_url, redis_prefix, sink, tmp_path)
        first = start_worker(env, log, "first")
        procs += [first, start_beat(env, log, tmp_path / "beat-schedule")]
        _build_and_queue(redis_prefix)
        wait_for(lambda: len(sink.messages) >= 40, 60, "the first worker to get going", log)
        kill(first)
        killed_at = time.monotonic()
        assert not settled(PEOPLE), "the worker finished before it was killed"
        procs.append(start_worker(env, log, "second"))
        wait_for(lambda: settled(PEOPLE), RECOVERY_BOUND, "the rest of the edition", log)
        recovery = time.monotonic() - killed_at
        time.sleep(1)  # a straggling duplicate would arrive now
        got = outcome(sink, addresses)
    assert got.duplicates == 0 and got.missed == [], got
    assert ledger() == {DeliveryStatus.SENT: PEOPLE}
    assert recovery < RECOVERY_BOUND


def test_reply_lost_after_the_message_was_accepted(
    db: Any, database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """The server stores the message, then the line drops before its reply: recorded as
    unknown, counted in the list, and never sent again (it was delivered once)."""
    addresses = seed(PEOPLE)
    dropped = set(addresses[7::60])  # 5 people
    log = tmp_path / "celery.log"
    with FaultySink() as sink, processes() as procs:
        sink.drop_after_data = dropped
        env = _start(database_url, redis_prefix, sink, tmp_path)
        procs += [start_worker(env, log, "w"), start_beat(env, log, tmp_path / "beat-schedule")]
        edition_id = _build_and_queue(redis_prefix)
        wait_for(lambda: settled(PEOPLE), RECOVERY_BOUND, "the edition", log)
        time.sleep(20)  # past a sweep: nothing may be sent again
        got = outcome(sink, addresses)
        assert sink.dropped == len(dropped)
    assert got.duplicates == 0 and got.missed == [], got
    assert ledger() == {
        DeliveryStatus.SENT: PEOPLE - len(dropped),
        DeliveryStatus.UNKNOWN: len(dropped),
    }
    with session_scope() as session:
        listed = {s.id: s for s in summaries(session)}[edition_id]
        assert listed.unknown == len(dropped) and listed.pending == 0
        assert session.get_one(Edition, edition_id).status.value == "done"


def test_a_421_storm_then_everyone_once(
    db: Any, database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    addresses = seed(PEOPLE)
    log = tmp_path / "celery.log"
    with FaultySink() as sink, processes() as procs:
        sink.storm_until = time.monotonic() + 10
        env = _start(database_url, redis_prefix, sink, tmp_path)
        procs += [start_worker(env, log, "w"), start_beat(env, log, tmp_path / "beat-schedule")]
        _build_and_queue(redis_prefix)
        time.sleep(max(0.0, sink.storm_until - time.monotonic()))
        storm_over = time.monotonic()
        assert sink.refused_in_storm > 0
        wait_for(lambda: settled(PEOPLE), RECOVERY_BOUND, "the edition after the storm", log)
        recovery = time.monotonic() - storm_over
        got = outcome(sink, addresses)
    assert got.duplicates == 0 and got.missed == [], got
    assert ledger() == {DeliveryStatus.SENT: PEOPLE}
    assert recovery < RECOVERY_BOUND


def test_550s_fail_once_and_end_only_those_subscriptions(
    db: Any, database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    addresses = seed(PEOPLE)
    refused = set(addresses[::100])  # 1%
    log = tmp_path / "celery.log"
    with FaultySink() as sink, processes() as procs:
        sink.reject = {a: "550 5.1.1 No such user" for a in refused}
        env = _start(database_url, redis_prefix, sink, tmp_path)
        procs += [start_worker(env, log, "w"), start_beat(env, log, tmp_path / "beat-schedule")]
        _build_and_queue(redis_prefix)
        wait_for(lambda: settled(PEOPLE), RECOVERY_BOUND, "the edition", log)
        got = outcome(sink, addresses, refused)
    assert got.duplicates == 0 and got.missed == [], got
    assert got.received == PEOPLE - len(refused)
    assert ledger() == {
        DeliveryStatus.SENT: PEOPLE - len(refused),
        DeliveryStatus.FAILED: len(refused),
    }

    def ended() -> set[str]:
        with session_scope() as session:
            return {
                str(e)
                for e in session.scalars(
                    select(Subscriber.email).where(Subscriber.status == SubscriberStatus.ENDED)
                )
            }

    # Ended after the batch's last delivery is recorded, so a moment after it settles.
    wait_for(lambda: ended() == refused, 30, "the refused subscriptions to end")


def test_two_beats_build_and_send_one_edition(
    db: Any, database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """Two beat processes (a deployment mistake) both ask every minute for the due
    edition: one edition is built and everyone gets it once."""
    addresses = seed(PEOPLE)
    log = tmp_path / "celery.log"
    with FaultySink() as sink, processes() as procs:
        env = _start(database_url, redis_prefix, sink, tmp_path)
        procs += [
            start_worker(env, log, "w"),
            start_beat(env, log, tmp_path / "beat-one"),
            start_beat(env, log, tmp_path / "beat-two"),
        ]
        # Beat's first "run due" comes a minute after it starts.
        wait_for(lambda: settled(PEOPLE), 75 + RECOVERY_BOUND, "the edition", log)
        time.sleep(20)  # both beats ask again: nothing more may go
        got = outcome(sink, addresses)
    assert got.duplicates == 0 and got.missed == [], got
    with session_scope() as session:
        # One weekly edition (the other frequencies' editions have nobody to go to).
        weekly = select(func.count()).where(Edition.frequency == Frequency.WEEKLY)
        assert session.scalar(weekly) == 1
