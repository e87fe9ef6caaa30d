"""Retention: unconfirmed requests go after 7 days; ended addresses are erased after 28
days, leaving only the hashed suppression record."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from publisher.db import session_scope, utcnow
from publisher.models import (
    ConsentRecord,
    ConsentSource,
    EndReason,
    Subscriber,
    SubscriberStatus,
    Suppression,
)
from publisher.subscriptions import lifecycle
from publisher.subscriptions.addresses import email_sha256
from publisher.subscriptions.preferences import parse_choice
from publisher.subscriptions.retention import apply_retention
from tests.subscriptions.helpers import active_subscriber, get

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def _pending(email: str, at: dt.datetime) -> int:
    with session_scope() as session:
        notice = lifecycle.request_subscription(
            session, email, parse_choice({}), ConsentSource.WEB_FORM, now=at
        )
        assert notice is not None
        return notice.subscriber_id


def _end(subscriber_id: int, at: dt.datetime, reason: EndReason = EndReason.UNSUBSCRIBED) -> None:
    with session_scope() as session:
        row = session.get(Subscriber, subscriber_id)
        assert row is not None
        lifecycle.end_subscription(session, row, reason, now=at)


def test_unconfirmed_requests_older_than_7_days_are_deleted(db):
    now = utcnow()
    old = _pending("old@example.org", now - dt.timedelta(days=7, minutes=1))
    fresh = _pending("fresh@example.org", now - dt.timedelta(days=6))
    with session_scope() as session:
        result = apply_retention(session, now=now)
    assert result.expired_deleted == 1
    with session_scope() as session:
        assert session.get(Subscriber, old) is None
        assert session.get(Subscriber, fresh) is not None
        assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 1
        # Never confirmed, so no consent: nothing kept, not even a suppression.
        assert session.scalar(select(func.count()).select_from(Suppression)) == 0


def test_ended_addresses_are_erased_after_28_days(db):
    now = utcnow()
    gone = active_subscriber("gone@example.org", age_bands=["0-5"])
    recent = active_subscriber("recent@example.org")
    stays = active_subscriber("stays@example.org")
    _end(gone, now - dt.timedelta(days=29))
    _end(recent, now - dt.timedelta(days=10), EndReason.BOUNCED)
    with session_scope() as session:
        result = apply_retention(session, now=now)
    assert result.erased == 1
    erased = get(gone)
    assert erased.email is None and erased.age_bands == [] and erased.consents == []
    assert erased.erased_at is not None and erased.status is SubscriberStatus.ENDED
    assert get(recent).email == "recent@example.org"
    assert get(stays).status is SubscriberStatus.ACTIVE
    with session_scope() as session:
        reasons = {s.email_sha256: s.reason for s in session.scalars(select(Suppression))}
        assert reasons == {
            email_sha256("gone@example.org"): EndReason.UNSUBSCRIBED,
            email_sha256("recent@example.org"): EndReason.BOUNCED,
        }
        assert lifecycle.is_suppressed(session, "GONE@example.org")
    # Running again changes nothing.
    with session_scope() as session:
        assert apply_retention(session, now=now).erased == 0


def test_a_returning_subscriber_who_does_not_confirm_is_ended_again(db):
    now = utcnow()
    sub = active_subscriber("back@example.org")
    _end(sub, now - dt.timedelta(days=40))
    _pending("back@example.org", now - dt.timedelta(days=8))
    with session_scope() as session:
        result = apply_retention(session, now=now)
    assert result.expired_ended == 1 and result.erased == 1
    assert get(sub).email is None


def test_retention_task_runs_the_same_rules(db, monkeypatch, redis_prefix):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    from publisher.tasks.subscriptions import apply_retention as task

    _pending("old@example.org", utcnow() - dt.timedelta(days=9))
    assert task.run() == {"expired_deleted": 1, "expired_ended": 0, "erased": 0}
