"""A real Celery worker sending review requests is killed (SIGKILL) mid-run; the next run
finishes the job. Every provider gets their request exactly once: nobody twice."""

from __future__ import annotations

import datetime as dt
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from publisher.config import reset_settings
from publisher.db import session_scope, utcnow
from publisher.models import MailStatus, ReviewMail
from publisher.reviews.sending import release_stale_claims, run_daily
from tests.factories import make_entry, make_source
from tests.mailsink import MailSink
from tests.worker import celery_worker, sender, wait_for, worker_env

pytestmark = pytest.mark.date_sensitive
PROVIDERS = 60


@pytest.fixture(autouse=True)
def _fixed_clock() -> None:
    """Not fixed here: the worker process runs on the real (or CI-shifted) clock too."""


def _statuses() -> dict[MailStatus, int]:
    with session_scope() as session:
        return dict(
            session.execute(select(ReviewMail.status, func.count()).group_by(ReviewMail.status))
            .tuples()
            .all()
        )


def test_killed_worker_sends_nobody_a_second_request(
    db: Any, database_url: str, redis_prefix: str, tmp_path: Path, monkeypatch: Any
) -> None:
    long_ago = dt.date.today() - dt.timedelta(days=500)
    with session_scope() as session:
        source = make_source(session, "north")
        for i in range(PROVIDERS):
            for j in range(2):
                make_entry(
                    session,
                    source,
                    f"s{i}-{j}",
                    f"Service {i}-{j}",
                    email=f"provider{i}@example.org",
                    assured_date=long_ago,
                    stale=True,
                )
    addresses = {f"provider{i}@example.org" for i in range(PROVIDERS)}

    with MailSink() as sink:
        sink.delay = 0.05  # slow enough that the kill lands mid-run
        monkeypatch.setenv("SMTP_URL", sink.url)
        reset_settings()  # settings are read once (tests/settings_env.py)
        env = worker_env(
            database_url,
            redis_prefix,
            tmp_path / "w",
            SMTP_URL=sink.url,
            SECRET_KEY="review-kill-secret-0123456789abcdef0123456789",
        )
        env.pop("NOTIFY_API_KEY", None)
        env.pop("MAIL_TRANSPORT", None)
        log = tmp_path / "worker.log"
        with celery_worker(env, queues="newsletters", log=log) as worker:
            client = sender(redis_prefix)
            client.conf.task_routes = {"publisher.reviews.*": {"queue": "newsletters"}}
            client.send_task("publisher.reviews.run_daily")
            assert wait_for(lambda: len(sink.messages) >= 10, 60), log.read_text()[-3000:]
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        before = len(sink.messages)
        assert before < PROVIDERS, "the worker finished before it was killed"
        statuses = _statuses()
        assert statuses.get(MailStatus.PENDING, 0) > 0  # work was left

        # A second run at once leaves the dead worker's claim alone (it may be sending)...
        run_daily()
        # ...and once the claim's lease has run out, gives it back and finishes.
        release_stale_claims(now=utcnow() + dt.timedelta(minutes=16))
        run_daily()

        received = Counter(rcpt for m in sink.messages for rcpt in m.rcpt_tos)
        assert max(received.values()) == 1, [a for a, n in received.items() if n > 1]
        assert set(received) == addresses
        assert _statuses() == {MailStatus.SENT: PROVIDERS * 2}
        # One email lists both of a provider's services.
        plain = sink.messages[-1].message.get_body(("plain",))
        assert plain is not None
        body = plain.get_content()
        assert body.count("Check it here:") == 2
