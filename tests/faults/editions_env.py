"""Helpers for the newsletter fault tests (issue 10): subscribers with news waiting, real
Celery worker and beat processes, and the counts every scenario asserts.

Every scenario ends the same way: each subscriber with news got exactly one email
(duplicates 0, missed 0; a delivery recorded "unknown" counts as received only if the
server has it), and the time from the end of the fault to the last delivery is under
90 s (a generous bound, not a benchmark).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Celery
from sqlalchemy import func, select

from publisher.config import get_settings
from publisher.db import session_scope, utcnow
from publisher.models import Delivery, DeliveryStatus, Frequency
from publisher.newsletters.windows import latest_close
from tests.clock import subprocess_clock_env
from tests.mailsink import MailSink
from tests.newsletters.helpers import change, source, subscriber

ROOT = Path(__file__).resolve().parents[2]
RECOVERY_BOUND = 90.0


def seed(people: int, *, reject_every: int = 0) -> list[str]:
    """``people`` weekly subscribers, all with news in the weekly edition now due."""
    end = latest_close(Frequency.WEEKLY, utcnow(), get_settings().editions)
    with session_scope() as session:
        src = source(session)
        change(session, src, "a", "Messy Play", at=end - dt.timedelta(days=1))
        addresses = [f"p{i}@example.org" for i in range(people)]
        for address in addresses:
            subscriber(session, address)
    return addresses


def env_for(
    database_url: str,
    redis_url: str,
    prefix: str,
    smtp_url: str,
    data_dir: Path,
    **extra: str,
) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NOTIFY_API_KEY", None)
    env.pop("MAIL_TRANSPORT", None)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_KEY_PREFIX=prefix,
        SMTP_URL=smtp_url,
        PUBLISHER_DATA_DIR=str(data_dir),
        SECRET_KEY="fault-test-secret-0123456789abcdef0123456789",
        EDITION_BATCH_SIZE="25",
        SMTP_TIMEOUT="10",
        **subprocess_clock_env(),
        **extra,
    )
    return env


def _celery(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "publisher", *args],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # so a SIGKILL of the group takes its children too
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
    )


def start_worker(
    env: dict[str, str], log: Path, name: str, queues: str = "newsletters"
) -> subprocess.Popen[bytes]:
    return _celery(
        [
            "worker",
            "-Q",
            queues,
            "-c",
            "2",
            "--pool",
            "prefork",
            "-n",
            f"{name}@%h",
            "-l",
            "info",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        env,
        log,
    )


def start_beat(env: dict[str, str], log: Path, schedule: Path) -> subprocess.Popen[bytes]:
    return _celery(["beat", "-s", str(schedule), "-l", "info"], env, log)


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and its children (a worker that dies without a word)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            kill(proc)


@contextmanager
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes added to the list are stopped on the way out, whatever happens."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        yield procs
    finally:
        for proc in procs:
            stop(proc)


def producer(redis_url: str, prefix: str) -> Celery:
    app = Celery("fault-producer", broker=redis_url)
    app.conf.broker_transport_options = {"global_keyprefix": prefix}
    app.conf.task_routes = {
        "publisher.newsletters.*": {"queue": "newsletters"},
        "publisher.social.*": {"queue": "social"},
    }
    return app


def queue_with(app: Celery) -> Callable[[int, list[int]], None]:
    def queue(edition_id: int, ids: list[int]) -> None:
        app.send_task("publisher.newsletters.send_batch", args=[edition_id, ids])

    return queue


def ledger() -> dict[DeliveryStatus, int]:
    with session_scope() as session:
        return dict(
            session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
            .tuples()
            .all()
        )


def settled(expected: int) -> bool:
    counts = ledger()
    open_ = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
    return open_ == 0 and sum(counts.values()) == expected


def wait_for(
    check: Callable[[], bool], timeout: float, what: str, log: Path | None = None
) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            raise AssertionError(f"timed out waiting for {what}: {ledger()}\n{tail}")
        time.sleep(0.2)
    return time.monotonic() - started


@dataclass
class Outcome:
    duplicates: int
    missed: list[str]
    received: int


def outcome(sink: MailSink, addresses: list[str], refused: set[str] | None = None) -> Outcome:
    """Who got what. ``refused`` are addresses the server itself refused (550): they are
    not "missed" by us, but must not have been tried again after the refusal."""
    got = sink.by_recipient()
    wanted = set(addresses) - (refused or set())
    duplicates = sum(len(msgs) - 1 for msgs in got.values() if len(msgs) > 1)
    return Outcome(duplicates, sorted(wanted - set(got)), sum(len(m) for m in got.values()))


def message_ids(sink: MailSink) -> list[str]:
    return [str(r.message["Message-ID"]) for r in sink.messages]


def counts_line(**values: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())
