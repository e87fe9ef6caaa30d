"""An edition for 20,000 subscribers is built beside a busy worker, and a build killed
half-way is finished later with nobody missed and nobody mailed twice (issue 16, point 3).

Before the fix, on SQLite, ``publisher editions run`` failed with "database is locked"
while writing the deliveries (a streaming read turned writer), and what it left (an
edition "sending" with its items and no deliveries) lost the news for good.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from publisher.config import reset_settings
from publisher.db import read_scope, session_scope, utcnow
from publisher.models import (
    Change,
    Delivery,
    DeliveryStatus,
    Edition,
    EmailFormat,
    Frequency,
    Subscriber,
    SubscriberStatus,
)
from publisher.newsletters import sending, sweeping
from tests.clock import subprocess_clock_env
from tests.conftest import TEST_REDIS_URL
from tests.faults.editions_env import env_for, processes, producer, start_worker, wait_for
from tests.faults.writers import busy_writer
from tests.mailsink import MailSink
from tests.newsletters.helpers import change, source

pytestmark = pytest.mark.date_sensitive
ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 20_000
# One in four wants the news (under-fives); the rest chose an age band it is not for.
MATCHING = PEOPLE // 4


def _seed() -> set[str]:
    import datetime as dt

    # The runs below close the window at once (``--now``): a first weekly edition then
    # covers the week before now, whatever the day, so the news is a day before now.
    # (Dated from the last scheduled close, it fell outside that week from Thursday
    # morning to the Friday close.)
    end = utcnow()
    with session_scope() as session:
        src = source(session)
        for i in range(40):
            change(
                session,
                src,
                f"e{i}",
                f"Messy Play {i}",
                at=end - dt.timedelta(days=1, minutes=i),
                minimum_age=0,
                maximum_age=4,
            )
        rows = [
            {
                "email": f"p{i}@example.org",
                "status": SubscriberStatus.ACTIVE,
                "confirmed_at": utcnow(),
                "frequency": Frequency.WEEKLY,
                "format": EmailFormat.TEXT if i % 2 else EmailFormat.HTML,
                "age_bands": ["0-5"] if i % 4 == 0 else ["19-25"],
                "needs": [],
                "categories": [],
                "localities": [],
                "paid_opt_in": False,
                "token_version": 1,
            }
            for i in range(PEOPLE)
        ]
        session.execute(insert(Subscriber), rows)
    return {f"p{i}@example.org" for i in range(0, PEOPLE, 4)}


def _publisher(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "publisher", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _env(database_url: str, sink: MailSink, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NOTIFY_API_KEY", None)
    env.pop("MAIL_TRANSPORT", None)
    env.update(
        DATABASE_URL=database_url,
        SMTP_URL=sink.url,
        PUBLISHER_DATA_DIR=str(tmp_path / "cli"),
        SECRET_KEY="build-test-secret-0123456789abcdef0123456789",
        **subprocess_clock_env(),
        **extra,
    )
    return env


def _poll(check: Any, timeout: float) -> None:
    """Often: the kill must land within the build, which takes a second or two."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the build never wrote a chunk"
        time.sleep(0.01)


def _exactly_once(sink: MailSink, wanted: set[str]) -> None:
    got = sink.by_recipient()
    assert set(got) == wanted, (len(got), len(wanted), sorted(set(got) ^ wanted)[:5])
    assert all(len(msgs) == 1 for msgs in got.values()), "somebody was mailed twice"
    with session_scope() as session:
        counts = dict(
            session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
            .tuples()
            .all()
        )
        assert counts == {DeliveryStatus.SENT: len(wanted)}
        assert session.scalar(select(func.count()).select_from(Edition)) == 1


def test_editions_run_beside_a_busy_worker(
    db: Any, database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    wanted = _seed()
    with session_scope() as session:
        change_ids = [int(i) for i in session.scalars(select(Change.id))]
    log = tmp_path / "worker.log"
    with MailSink() as sink, processes() as procs, busy_writer(database_url, tmp_path):
        # A real worker with writes of its own: feed rebuilds and drafting, queued deep.
        worker_env = env_for(database_url, TEST_REDIS_URL, redis_prefix, sink.url, tmp_path)
        procs.append(start_worker(worker_env, log, "busy", queues="feeds,social"))
        app = producer(TEST_REDIS_URL, redis_prefix)
        app.conf.task_routes = {
            "publisher.feeds.*": {"queue": "feeds"},
            "publisher.social.*": {"queue": "social"},
        }
        for _ in range(30):
            app.send_task("publisher.feeds.rebuild_feeds")
            app.send_task("publisher.social.draft_posts", args=[change_ids])
        wait_for(lambda: "succeeded" in log.read_text(errors="replace"), 60, "the worker", log)
        run = _publisher(
            "editions", "run", "weekly", "--now", "--json", env=_env(database_url, sink, tmp_path)
        )
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-3000:]
        result = json.loads(out.strip().splitlines()[-1])
        assert result["recipients"] == MATCHING and result["sent"] == MATCHING, result
    _exactly_once(sink, wanted)


def test_a_build_killed_mid_insert_is_finished_by_the_next_run(
    db: Any, database_url: str, tmp_path: Path
) -> None:
    wanted = _seed()
    with MailSink() as sink:
        env = _env(
            database_url, sink, tmp_path, EDITION_BUILD_CHUNK="50", DELIVERY_LEASE_SECONDS="5"
        )
        run = _publisher("editions", "run", "weekly", "--now", env=env)

        def half_built() -> bool:
            # A read that takes no write lock: on SQLite, BEGIN IMMEDIATE here would queue
            # behind the builder's chunks and see the first one only when all were done.
            with read_scope() as session:
                return (session.scalar(select(func.count()).select_from(Delivery)) or 0) > 0

        try:
            _poll(half_built, 120)
        finally:
            run.send_signal(signal.SIGKILL)
            run.wait(timeout=30)
        with session_scope() as session:
            edition = session.scalars(select(Edition)).one()
            written = session.scalar(select(func.count()).select_from(Delivery))
            assert edition.status.value == "building", "the kill came after the build"
            assert 0 < (written or 0) < MATCHING
        listed = subprocess.run(
            [sys.executable, "-m", "publisher", "editions", "list"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert " building " in listed.stdout, listed.stdout
        assert sink.messages == []
        time.sleep(5.5)  # the dead builder's heartbeat is now older than the lease
        again = _publisher("editions", "run", "weekly", "--now", "--json", env=env)
        out, err = again.communicate(timeout=600)
        assert again.returncode == 0, err[-3000:]
        result = json.loads(out.strip().splitlines()[-1])
        assert result["result"] == "resumed" and result["recipients"] == MATCHING, result
    _exactly_once(sink, wanted)


def test_the_sweeper_finishes_a_build_that_stopped(
    db: Any, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = _seed()
    monkeypatch.setenv("DELIVERY_LEASE_SECONDS", "5")
    reset_settings()
    with MailSink() as sink:
        env = _env(database_url, sink, tmp_path, EDITION_BUILD_CHUNK="50")
        run = _publisher("editions", "run", "weekly", "--now", env=env)

        def half_built() -> bool:
            # A read that takes no write lock: on SQLite, BEGIN IMMEDIATE here would queue
            # behind the builder's chunks and see the first one only when all were done.
            with read_scope() as session:
                return (session.scalar(select(func.count()).select_from(Delivery)) or 0) > 0

        try:
            _poll(half_built, 120)
        finally:
            run.send_signal(signal.SIGKILL)
            run.wait(timeout=30)
        time.sleep(5.5)
        monkeypatch.setenv("SMTP_URL", sink.url)
        monkeypatch.delenv("NOTIFY_API_KEY", raising=False)
        monkeypatch.delenv("MAIL_TRANSPORT", raising=False)
        reset_settings()
        batches: list[tuple[int, list[int]]] = []
        swept = sweeping.sweep(lambda edition_id, ids: batches.append((edition_id, ids)))
        assert len(swept.resumed_builds) == 1 and batches, swept
        try:
            for edition_id, ids in batches:
                sending.send_batch(edition_id, ids)
        finally:
            sending.reset_process_state()
    _exactly_once(sink, wanted)
