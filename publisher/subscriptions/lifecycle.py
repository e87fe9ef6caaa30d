"""Subscribing, confirming, changing choices, leaving and erasing: the rules in one place.

Every function takes a session and leaves committing to the caller, so a web request or
a task is one transaction. Functions that mean an email should go out return a
``Notice`` for the caller to send *after* the commit.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.insight.events import (
    CONFIRMATIONS,
    SIGNUPS,
    UNSUBSCRIBES,
    record_subscription_event,
)
from publisher.models import (
    ConsentRecord,
    ConsentSource,
    EndReason,
    Subscriber,
    SubscriberStatus,
    Suppression,
)
from publisher.subscriptions import consent, tokens
from publisher.subscriptions.addresses import email_sha256, normalise_email
from publisher.subscriptions.follow_list import add_follow
from publisher.subscriptions.preferences import Choice

ERASE_AFTER = dt.timedelta(days=28)
PENDING_EXPIRES_AFTER = tokens.CONFIRM_MAX_AGE


class NoticeKind(enum.Enum):
    CONFIRM = "confirm"  # please confirm your subscription
    MANAGE_LINK = "manage_link"  # a link to manage your choices (asked for, or already subscribed)
    WELCOME = "welcome"  # you are signed up: your choices, and how to change them or stop


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    subscriber_id: int
    consent_id: int | None = None
    # Why a manage link is sent: "requested" (the form) or "already" (subscribed again).
    reason: str = "requested"


def find_by_email(session: Session, email: str) -> Subscriber | None:
    return session.scalars(select(Subscriber).where(Subscriber.email == email)).first()


def is_suppressed(session: Session, email: str) -> bool:
    """Never mail this address? ``email`` may be raw; it is normalised first."""
    key = email_sha256(normalise_email(email))
    return session.scalar(select(Suppression.id).where(Suppression.email_sha256 == key)) is not None


def suppression_reason(session: Session, email: str) -> EndReason | None:
    return session.scalar(
        select(Suppression.reason).where(Suppression.email_sha256 == email_sha256(email))
    )


def suppress(session: Session, email: str, reason: EndReason) -> None:
    """Never mail ``email`` (normalised) again, unless its owner confirms a new request."""
    key = email_sha256(email)
    row = session.scalars(select(Suppression).where(Suppression.email_sha256 == key)).first()
    if row is None:
        session.add(Suppression(email_sha256=key, reason=reason))
    else:
        row.reason = reason


def _consent(
    subscriber: Subscriber,
    choice: Choice,
    source: ConsentSource,
    *,
    client_ip: str | None,
    now: dt.datetime,
    wording_version: str = consent.CURRENT_VERSION,
    wording: str | None = None,
    confirmed_at: dt.datetime | None = None,
) -> ConsentRecord:
    text = wording if wording is not None else consent.WORDINGS[wording_version]
    if wording is None:
        # The separate opt-in is part of what they were shown, ticked or not.
        box = "[ticked]" if choice.paid_opt_in else "[not ticked]"
        text = f"{text}\n{consent.PAID_HINT}\n{box} {consent.PAID_WORDING}"
    record = ConsentRecord(
        wording_version=wording_version,
        wording=text,
        wording_sha256=consent.wording_sha256(text),
        source=source,
        preferences=choice.as_json(),
        paid_opt_in=choice.paid_opt_in,
        requested_at=now,
        confirmed_at=confirmed_at,
        client_network=consent.client_network(client_ip),
    )
    subscriber.consents.append(record)
    return record


def request_subscription(
    session: Session,
    email: str,
    choice: Choice,
    source: ConsentSource,
    *,
    client_ip: str | None = None,
    now: dt.datetime | None = None,
) -> Notice | None:
    """Someone asked to subscribe ``email`` (already normalised) with ``choice``.

    What we do depends on the address, but what the person sees must not: the caller
    shows the same answer whatever this returns.
    - new, pending or ended: store the choice as pending, record consent, send a confirm link;
    - already active: change nothing (a stranger must not be able to change someone's
      choices) and email the owner a link to manage them;
    - suppressed after a permanent delivery failure: send nothing.
    """
    now = now or utcnow()
    if suppression_reason(session, email) is EndReason.BOUNCED:
        return None
    subscriber = find_by_email(session, email)
    if subscriber is not None and subscriber.status is SubscriberStatus.ACTIVE:
        return Notice(NoticeKind.MANAGE_LINK, subscriber.id, reason="already")
    if subscriber is None:
        subscriber = Subscriber(email=email, status=SubscriberStatus.PENDING, created_at=now)
        session.add(subscriber)
    subscriber.status = SubscriberStatus.PENDING
    subscriber.requested_at = now
    choice.apply_to(subscriber)
    record = _consent(subscriber, choice, source, client_ip=client_ip, now=now)
    session.flush()
    record_subscription_event(session, SIGNUPS, now)  # open-data counts: no personal data
    return Notice(NoticeKind.CONFIRM, subscriber.id, consent_id=record.id)


class ConfirmResult(enum.Enum):
    CONFIRMED = "confirmed"
    ALREADY = "already"  # the link was used before: nothing to do
    STALE = "stale"  # a newer request replaced this one, or the request expired


def confirm(session: Session, token: str, *, now: dt.datetime | None = None) -> ConfirmResult:
    """Follow a confirm link. Raises ``tokens.BadToken`` for forged or expired links."""
    now = now or utcnow()
    claim = tokens.read(tokens.CONFIRM, token, max_age=tokens.CONFIRM_MAX_AGE)
    subscriber = session.get(Subscriber, claim.subscriber_id)
    record = session.get(ConsentRecord, claim.number)
    if subscriber is None or record is None or record.subscriber_id != subscriber.id:
        # Deleted since (expired, or the person deleted their data).
        return ConfirmResult.STALE
    if record.confirmed_at is not None:
        return ConfirmResult.ALREADY
    follow = (record.preferences or {}).get("follow")
    if follow and subscriber.status is SubscriberStatus.ACTIVE and subscriber.email:
        # "Follow this service" from someone already subscribed (issue 14): add it now.
        add_follow(subscriber, str(follow))
        record.confirmed_at = now
        return ConfirmResult.CONFIRMED
    if subscriber.status is not SubscriberStatus.PENDING or subscriber.email is None:
        return ConfirmResult.STALE
    latest = max(subscriber.consents, key=lambda c: c.id)
    if latest.id != record.id:
        # Only the newest request's link counts: it holds the choices they last made.
        return ConfirmResult.STALE
    record.confirmed_at = now
    record_subscription_event(session, CONFIRMATIONS, now)
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.confirmed_at = now
    subscriber.ended_at = None
    subscriber.end_reason = None
    # A new, confirmed request lifts an earlier suppression of this address.
    session.execute(
        delete(Suppression).where(Suppression.email_sha256 == email_sha256(subscriber.email))
    )
    return ConfirmResult.CONFIRMED


def subscriber_for_link(session: Session, kind: str, token: str) -> Subscriber:
    """The subscriber a manage, magic or unsubscribe link is for; ``BadToken`` if it was
    forged, has run out, or was revoked by a newer token_version."""
    max_age = tokens.MAGIC_MAX_AGE if kind == tokens.MAGIC else None
    claim = tokens.read(kind, token, max_age=max_age)
    subscriber = session.get(Subscriber, claim.subscriber_id)
    if subscriber is None or subscriber.token_version != claim.number:
        raise tokens.BadToken("This link no longer works")
    return subscriber


def update_choice(
    session: Session,
    subscriber: Subscriber,
    choice: Choice,
    *,
    client_ip: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """A subscriber changed their choices through a manage link (which proves they own
    the address), so the new consent is confirmed at once."""
    now = now or utcnow()
    choice.apply_to(subscriber)
    _consent(
        subscriber, choice, ConsentSource.WEB_FORM, client_ip=client_ip, now=now, confirmed_at=now
    )


def end_subscription(
    session: Session,
    subscriber: Subscriber,
    reason: EndReason,
    *,
    now: dt.datetime | None = None,
) -> bool:
    """Stop all email to this subscriber at once; True if it was not already ended.

    For newsletters: call with ``EndReason.BOUNCED`` on a permanent delivery failure.
    The address is suppressed now and erased 28 days later by the retention task.
    """
    now = now or utcnow()
    if subscriber.status is SubscriberStatus.ENDED:
        return False
    subscriber.status = SubscriberStatus.ENDED
    subscriber.ended_at = now
    subscriber.end_reason = reason
    if reason is EndReason.UNSUBSCRIBED:
        record_subscription_event(session, UNSUBSCRIBES, now)
    for record in subscriber.consents:
        if record.withdrawn_at is None:
            record.withdrawn_at = now
    if subscriber.email is not None:
        suppress(session, subscriber.email, reason)
    return True


def erase(
    session: Session,
    subscriber: Subscriber,
    reason: EndReason,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Remove the address and everything about the person, keeping an anonymous row (so
    other tables' references stay valid) and the hashed suppression record."""
    now = now or utcnow()
    end_subscription(session, subscriber, reason, now=now)
    if subscriber.email is not None:
        suppress(session, subscriber.email, subscriber.end_reason or reason)
    subscriber.email = None
    subscriber.age_bands = []
    subscriber.needs = []
    subscriber.categories = []
    subscriber.localities = []
    subscriber.paid_opt_in = False
    subscriber.you_said_we_did = False
    subscriber.follows = []
    subscriber.erased_at = now
    # Any link still out there stops working.
    subscriber.token_version += 1
    subscriber.consents.clear()


def export_data(subscriber: Subscriber) -> dict[str, Any]:
    """Everything we hold about a subscriber, for "download my data"."""

    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "email": subscriber.email,
        "status": subscriber.status.value,
        "created_at": iso(subscriber.created_at),
        "requested_at": iso(subscriber.requested_at),
        "confirmed_at": iso(subscriber.confirmed_at),
        "ended_at": iso(subscriber.ended_at),
        "end_reason": subscriber.end_reason.value if subscriber.end_reason else None,
        "preferences": Choice.of(subscriber).as_json(),
        "follows": list(subscriber.follows or []),
        "topic_news": subscriber.topic_news is not False,
        "consents": [
            {
                "wording_version": c.wording_version,
                "wording": c.wording,
                "wording_sha256": c.wording_sha256,
                "source": c.source.value,
                "preferences": c.preferences,
                "paid_opt_in": c.paid_opt_in,
                "requested_at": iso(c.requested_at),
                "confirmed_at": iso(c.confirmed_at),
                "withdrawn_at": iso(c.withdrawn_at),
                "client_network": c.client_network,
            }
            for c in subscriber.consents
        ],
    }
