"""Retention: unconfirmed requests go after 7 days; ended subscriptions' addresses are
erased after 28 days, leaving only the hashed suppression record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models import EndReason, Subscriber, SubscriberStatus
from publisher.subscriptions.lifecycle import ERASE_AFTER, PENDING_EXPIRES_AFTER, erase


@dataclass(frozen=True)
class RetentionResult:
    expired_deleted: int
    expired_ended: int
    erased: int


def apply_retention(session: Session, *, now: dt.datetime | None = None) -> RetentionResult:
    now = now or utcnow()
    deleted = ended = erased = 0
    stale_pending = session.scalars(
        select(Subscriber).where(
            Subscriber.status == SubscriberStatus.PENDING,
            # From the first request of the chain: repeating it does not extend the stay.
            func.coalesce(Subscriber.first_requested_at, Subscriber.requested_at)
            < now - PENDING_EXPIRES_AFTER,
        )
    ).all()
    for subscriber in stale_pending:
        if subscriber.confirmed_at is None:
            # Never confirmed: we never had consent, so keep nothing (not even a suppression).
            session.delete(subscriber)
            deleted += 1
        else:
            # Had left before and asked to come back but did not confirm: back to ended,
            # so the 28-day erasure below applies from when they first left.
            subscriber.status = SubscriberStatus.ENDED
            subscriber.end_reason = subscriber.end_reason or EndReason.EXPIRED
            subscriber.ended_at = subscriber.ended_at or now
            ended += 1
    session.flush()
    to_erase = session.scalars(
        select(Subscriber).where(
            Subscriber.status == SubscriberStatus.ENDED,
            Subscriber.email.is_not(None),
            Subscriber.ended_at < now - ERASE_AFTER,
        )
    ).all()
    for subscriber in to_erase:
        erase(session, subscriber, subscriber.end_reason or EndReason.UNSUBSCRIBED, now=now)
        erased += 1
    session.flush()
    return RetentionResult(expired_deleted=deleted, expired_ended=ended, erased=erased)
