"""The default (queued) way of sending: the web app queues a task after its commit and a
real Celery worker (a separate process, on the real Redis) sends the email."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_REDIS_URL
from tests.subscriptions.conftest import links_in, subscribe

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def queued_app(app, redis_prefix):
    from publisher.celery import app as celery_app

    # The Celery app read its settings when first imported; point it at this test's keys.
    saved = (celery_app.conf.broker_url, celery_app.conf.broker_transport_options)
    options = dict(saved[1] or {})
    options["global_keyprefix"] = redis_prefix
    celery_app.conf.update(broker_url=TEST_REDIS_URL, broker_transport_options=options)
    _fresh_connections(celery_app)
    app.config["SUBSCRIPTIONS_SEND_INLINE"] = False
    try:
        yield app
    finally:
        celery_app.conf.update(broker_url=saved[0], broker_transport_options=saved[1])
        _fresh_connections(celery_app)


def _fresh_connections(celery_app):
    # As Celery does after a fork: forget pooled connections so new ones use the settings.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture()
def worker(queued_app, database_url, redis_prefix, mail_sink, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "CELERY_KEY_PREFIX": redis_prefix,
        "SMTP_URL": mail_sink.url,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "publisher",
            "worker",
            "-Q",
            "default",
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "w"),
    )
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_confirm_email_goes_through_the_worker(queued_app, worker, mail_sink, tmp_path):
    with queued_app.test_client() as client:
        assert subscribe(client, "queued@example.org").status_code == 303
    deadline = time.monotonic() + 60
    while not mail_sink.messages and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.1)
    log = (tmp_path / "worker.log").read_text()
    assert mail_sink.messages, f"no email arrived; worker log:\n{log}"
    assert mail_sink.messages[0].rcpt_tos == ["queued@example.org"]
    assert links_in(mail_sink.messages[0].message)[0].startswith("/subscriptions/confirm/")
