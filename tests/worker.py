"""Start a real Celery worker process for a test, on the real Redis with a key prefix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from celery import Celery

from tests.clock import subprocess_clock_env
from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[1]


def worker_env(database_url: str, prefix: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=TEST_REDIS_URL,
        CELERY_KEY_PREFIX=prefix,
        PUBLISHER_DATA_DIR=str(data_dir),
        **subprocess_clock_env(),
        **extra,
    )
    return env


@contextmanager
def celery_worker(
    env: dict[str, str], queues: str = "default,crawl", log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "publisher",
            "worker",
            "-Q",
            queues,
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]


def sender(prefix: str) -> Celery:
    """A client app that sends tasks by name, as beat or another process would."""
    app = Celery("test-sender", broker=TEST_REDIS_URL)
    app.conf.broker_transport_options = {"global_keyprefix": prefix}
    app.conf.task_routes = {"publisher.crawl.*": {"queue": "crawl"}}
    return app


def wait_for(check: Callable[[], bool], timeout: float = 60.0, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False
