"""Sending through GOV.UK Notify (a local server that speaks its API and checks its JWT),
the shared Redis rate limit, and Notify's permanent-failure callback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import select

from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.mail import (
    NotifyTransport,
    OutgoingMessage,
    PermanentSendError,
    RateLimiter,
    RetryableSendError,
    get_transport,
)
from publisher.models import (
    Delivery,
    DeliveryStatus,
    EndReason,
    Frequency,
    Subscriber,
    SubscriberStatus,
)
from publisher.newsletters import editions, sending
from publisher.web import create_app
from tests.conftest import TEST_REDIS_URL
from tests.newsletters.helpers import change, send_here, source, subscriber
from tests.newsletters.notify_server import API_KEY, TEMPLATE_ID, NotifyServer

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

NOW = dt.datetime(2026, 11, 27, 7, 30, tzinfo=dt.UTC)


@pytest.fixture()
def notify(monkeypatch: pytest.MonkeyPatch, redis_prefix: str) -> Iterator[NotifyServer]:
    with NotifyServer() as server:
        monkeypatch.setenv("NOTIFY_API_KEY", API_KEY)
        monkeypatch.setenv("NOTIFY_TEMPLATE_ID", TEMPLATE_ID)
        monkeypatch.setenv("NOTIFY_BASE_URL", server.url)
        monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
        monkeypatch.setenv("CELERY_KEY_PREFIX", redis_prefix)
        monkeypatch.setenv("PUBLIC_BASE_URL", "https://news.example.gov.uk")
        monkeypatch.setenv("SECRET_KEY", "notify-test-secret-0123456789abcdef0123456789")
        monkeypatch.delenv("SMTP_URL", raising=False)
        reset_settings()  # settings are read once (tests/settings_env.py)
        sending.reset_process_state()
        yield server
        sending.reset_process_state()


def test_edition_goes_through_notify_with_one_click_unsubscribe(
    db: Any, notify: NotifyServer
) -> None:
    reset_settings()
    with session_scope() as session:
        src = source(session)
        change(
            session,
            src,
            "a",
            "Sensory Garden",
            at=NOW - dt.timedelta(days=2),
            minimum_age=0,
            maximum_age=11,
        )
        subscriber(session, "one@example.org")
        subscriber(session, "bad@example.org")
    notify.errors["bad@example.org"] = (400, "email_address Not a valid email address")
    result = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    assert isinstance(get_transport(), NotifyTransport)
    assert notify.refused_auth == 0
    [sent] = notify.received
    assert sent["email_address"] == "one@example.org"
    assert sent["template_id"] == TEMPLATE_ID
    assert sent["one_click_unsubscribe_url"].startswith(
        "https://news.example.gov.uk/subscriptions/unsubscribe/"
    )
    assert "Sensory Garden" in sent["personalisation"]["body"]
    assert sent["personalisation"]["subject"].startswith("1 new service")
    with session_scope() as session:
        one = session.scalars(select(Subscriber).where(Subscriber.email == "one@example.org")).one()
        assert sent["reference"] == f"ed{result.edition_id}-s{one.id}"
        bad = session.scalars(select(Subscriber).where(Subscriber.email == "bad@example.org")).one()
        assert bad.status is SubscriberStatus.ENDED and bad.end_reason is EndReason.BOUNCED


def test_wrong_key_is_retryable_not_the_subscribers_fault(
    db: Any, notify: NotifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_API_KEY", API_KEY[:-36] + "00000000-0000-0000-0000-000000000000")
    reset_settings()  # settings are read once (tests/settings_env.py)
    transport = get_transport()
    with pytest.raises(RetryableSendError, match="403"):
        transport.send(OutgoingMessage(to="a@example.org", subject="s", text="t"))
    assert notify.refused_auth == 1
    notify.errors["x@example.org"] = (400, "Template not found")
    monkeypatch.setenv("NOTIFY_API_KEY", API_KEY)
    reset_settings()  # settings are read once (tests/settings_env.py)
    with pytest.raises(PermanentSendError) as info:
        get_transport().send(OutgoingMessage(to="x@example.org", subject="s", text="t"))
    assert not info.value.ends_subscription


def test_permanent_failure_callback_ends_the_subscription(
    db: Any, notify: NotifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_CALLBACK_TOKEN", "callback-token-123")
    reset_settings()  # settings are read once (tests/settings_env.py)
    with session_scope() as session:
        src = source(session)
        change(session, src, "a", "Sensory Garden", at=NOW - dt.timedelta(days=2))
        person = subscriber(session, "later@example.org")
        person_id = person.id
    result = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    client = create_app({"TESTING": True}).test_client()
    body = {
        "id": "x",
        "reference": f"ed{result.edition_id}-s{person_id}",
        "to": "later@example.org",
        "status": "permanent-failure",
        "notification_type": "email",
    }
    assert client.post("/newsletters/notify/callback", json=body).status_code == 401
    assert (
        client.post(
            "/newsletters/notify/callback", json=body, headers={"Authorization": "Bearer wrong"}
        ).status_code
        == 401
    )
    auth = {"Authorization": "Bearer callback-token-123"}
    bad = client.post("/newsletters/notify/callback", data="not json", headers=auth)
    assert bad.status_code == 400
    with session_scope() as session:
        still = session.get(Subscriber, person_id)
        assert still is not None and still.status is SubscriberStatus.ACTIVE
    ok = client.post("/newsletters/notify/callback", json=body, headers=auth)
    assert ok.status_code == 200 and ok.get_json() == {"result": "ended"}
    with session_scope() as session:
        ended = session.get(Subscriber, person_id)
        assert ended is not None and ended.end_reason is EndReason.BOUNCED
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.status is DeliveryStatus.FAILED


def test_rate_limit_is_shared_through_redis(
    redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELERY_KEY_PREFIX", redis_prefix)
    client = redis.Redis.from_url(TEST_REDIS_URL)
    first = RateLimiter("shared-test", per_minute=600, client=client, chunk=4)  # 10 a second
    second = RateLimiter("shared-test", per_minute=600, client=client, chunk=4)
    for _ in range(15):
        first.acquire()
        second.acquire()
    windows = {
        k: int(client.get(k) or 0)
        for k in client.scan_iter(match=f"{redis_prefix}publisher:ratelimit:shared-test:*")
    }
    assert sum(windows.values()) >= 30
    assert max(windows.values()) <= 10  # never more than the limit in any one second
    client.close()


def test_a_lost_reply_is_checked_with_notify_not_sent_twice(db: Any, notify: NotifyServer) -> None:
    """Notify takes a message but the answer never arrives: we ask Notify by reference
    (now, and again before any later attempt) instead of sending it a second time."""
    reset_settings()
    with session_scope() as session:
        src = source(session)
        change(session, src, "a", "Sensory Garden", at=NOW - dt.timedelta(days=2))
        lost = subscriber(session, "lost@example.org")
        unsure = subscriber(session, "unsure@example.org")
        ids = {lost.id: "lost", unsure.id: "unsure"}
    notify.lose_reply.update({"lost@example.org", "unsure@example.org"})
    notify.failing_lookups = 1  # the first lookup (for one of the two) fails

    batches: list[tuple[int, list[int]]] = []
    result = editions.run_edition(Frequency.WEEKLY, lambda e, i: batches.append((e, i)), now=NOW)
    assert result.edition_id is not None
    [(edition_id, batch)] = batches
    first = sending.send_batch(edition_id, batch)
    # One lookup failed: that delivery is given back, not marked failed or sent.
    assert (first.sent, first.released) == (1, 1)
    assert first.retry_error is not None and "earlier attempt" in first.retry_error
    second = sending.send_batch(edition_id, batch)
    assert second.sent == 1
    assert sorted(p["email_address"] for p in notify.received) == [
        "lost@example.org",
        "unsure@example.org",
    ]  # each exactly once
    assert len(notify.lookups) == 3  # after each lost reply, and before the second attempt
    with session_scope() as session:
        rows = session.scalars(select(Delivery).where(Delivery.edition_id == edition_id)).all()
        assert {ids[r.subscriber_id]: r.status for r in rows} == {
            "lost": DeliveryStatus.SENT,
            "unsure": DeliveryStatus.SENT,
        }


def test_notify_out_of_reach_leaves_the_message_to_retry(db: Any, notify: NotifyServer) -> None:
    # Nothing listens any more: a refused connection looks like a lost reply, so with a
    # reference we ask Notify, which fails too; either way the error is retryable.
    notify.__exit__()
    transport = get_transport()
    with pytest.raises(RetryableSendError, match="earlier attempt"):
        transport.send(
            OutgoingMessage(to="a@example.org", subject="s", text="t", reference="ed1-s1")
        )
    with pytest.raises(RetryableSendError, match="Notify 503"):
        transport.send(OutgoingMessage(to="a@example.org", subject="s", text="t"))
