""" "Follow this service": one service's changes, in the same subscriber record and the
same editions as topic news.

A follow is the item key ``<source name>:<entry id>`` on ``Subscriber.follows``
(matching reads it: publisher.subscriptions.matching). Someone who follows from a service
page and has no subscription yet gets ``topic_news = False``: only what they follow. The
link is ``/follow/<source>/<entry id>``, printable on the council's service pages.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.config import get_settings
from publisher.db import utcnow
from publisher.models import (
    ConsentRecord,
    ConsentSource,
    EndReason,
    Entry,
    Frequency,
    Source,
    Subscriber,
    SubscriberStatus,
)
from publisher.subscriptions import consent
from publisher.subscriptions.follow_list import add_follow
from publisher.subscriptions.preferences import Choice

if TYPE_CHECKING:
    from publisher.subscriptions.lifecycle import Notice


def follow_key(source: str, entry_id: str) -> str:
    return f"{source}:{entry_id}"


def follow_url(source: object, entry_id: str) -> str:
    if not source or not entry_id:
        return ""
    base = get_settings().public_base_url
    return f"{base}/follow/{quote(str(source), safe='')}/{quote(entry_id, safe='')}"


def find_entry(session: Session, source: str, entry_id: str) -> Entry | None:
    """The entry a follow link names, if it is in the Local Offer now (present)."""
    if len(source) > 200 or len(entry_id) > 255:
        return None
    return session.scalars(
        select(Entry)
        .join(Source, Source.id == Entry.source_id)
        .where(Source.name == source, Entry.entry_id == entry_id, Entry.present.is_(True))
    ).first()


FOLLOW_VERSION = "2026-12-follow-1"
FOLLOW_WORDING = (
    "We will email you when this service changes, starts again or stops. "
    "We will only email you if you click the link in the email we send you now. "
    "Every email has a link to stop the emails. We keep your email address only while "
    "you get our emails, and delete it 28 days after you stop."
)


def request_follow(
    session: Session,
    email: str,
    entry: Entry,
    source_name: str,
    frequency: Frequency,
    *,
    client_ip: str | None = None,
    now: dt.datetime | None = None,
) -> Notice | None:
    """Someone asked to follow ``entry`` with ``email`` (normalised). As for sign-up, the
    answer shown is the same whatever happens here, and nothing changes for an active
    subscriber until the owner of the address confirms (a stranger must not be able to
    add to someone's emails)."""
    from publisher.subscriptions.lifecycle import find_by_email, suppression_reason

    now = now or utcnow()
    if suppression_reason(session, email) is EndReason.BOUNCED:
        return None
    key = follow_key(source_name, entry.entry_id)
    subscriber = find_by_email(session, email)
    if subscriber is None or subscriber.status is SubscriberStatus.ENDED:
        if subscriber is None:
            subscriber = Subscriber(email=email, created_at=now)
            session.add(subscriber)
        Choice(frequency=frequency).apply_to(subscriber)
        subscriber.status = SubscriberStatus.PENDING
        subscriber.topic_news = False
        subscriber.follows = []
    if subscriber.status is SubscriberStatus.PENDING:
        subscriber.requested_at = now
        add_follow(subscriber, key)
    wording = f"{FOLLOW_WORDING}\nService: {entry.name}"
    record = ConsentRecord(
        wording_version=FOLLOW_VERSION,
        wording=wording,
        wording_sha256=consent.wording_sha256(wording),
        source=ConsentSource.WEB_FORM,
        preferences={"follow": key, "frequency": frequency.value},
        paid_opt_in=False,
        requested_at=now,
        client_network=consent.client_network(client_ip),
    )
    subscriber.consents.append(record)
    session.flush()
    from publisher.subscriptions.lifecycle import Notice, NoticeKind

    return Notice(NoticeKind.CONFIRM, subscriber.id, consent_id=record.id)


def keep_only(subscriber: Subscriber, kept: list[str]) -> None:
    """Stop following what the person unticked (never add: adding needs confirmation)."""
    wanted = set(kept)
    subscriber.follows = [k for k in subscriber.follows or [] if k in wanted]


def shown(session: Session, subscriber: Subscriber) -> dict[str, object]:
    """What the manage page shows about follows: each key with its service's name."""
    followed = []
    for key in subscriber.follows or []:
        source, _, entry_id = key.partition(":")
        entry = find_entry(session, source, entry_id)
        followed.append({"key": key, "name": entry.name if entry else f"{entry_id} (gone)"})
    return {"followed": followed, "topic_news": subscriber.topic_news is not False}
