"""An urgent bulletin: sent at once as an email of its own to everyone it matches,
whatever their frequency, exactly once each.

Crash windows, as for editions (publisher.newsletters.sending):
- planning writes one ledger row per person in one transaction, guarded by a conditional
  UPDATE of ``urgent_planned_at``: planned twice, it is written once;
- a sender claims pending rows with its own token (one conditional UPDATE), and marks
  each row "sent" on an autocommit connection just before the provider takes the message
  (the transport's hand-over call), fenced on its token: killed before the mark, the row
  is still "sending" and the sweeper gives it back; killed after, it says "sent";
- a claim the sweeper took back fails the fence, and that message is not sent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from publisher.bulletins.audience import reaches
from publisher.bulletins.body import public_url
from publisher.db import get_engine, session_scope, utcnow
from publisher.mail import (
    OutgoingMessage,
    PermanentSendError,
    RetryableSendError,
    Transport,
    get_transport,
)
from publisher.models import (
    Bulletin,
    BulletinDelivery,
    BulletinDeliveryStatus,
    BulletinState,
    Subscriber,
    SubscriberStatus,
)
from publisher.subscriptions import links
from publisher.subscriptions.matching import Preferences
from publisher.subscriptions.notices import render

CHUNK = 5000
BATCH = 200
LEASE = dt.timedelta(minutes=10)


def plan(session: Session, bulletin_id: int) -> int:
    """Write the ledger for an approved urgent bulletin, once. Returns the rows written
    (0 if it was planned before). The caller commits."""
    now = utcnow()
    claimed = session.execute(
        update(Bulletin)
        .where(
            Bulletin.id == bulletin_id,
            Bulletin.urgent.is_(True),
            Bulletin.state == BulletinState.APPROVED,
            Bulletin.urgent_planned_at.is_(None),
        )
        .values(urgent_planned_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    bulletin = session.get(Bulletin, bulletin_id)
    assert bulletin is not None
    rows = session.execute(
        select(
            Subscriber.id,
            Subscriber.age_bands,
            Subscriber.needs,
            Subscriber.categories,
            Subscriber.localities,
            Subscriber.paid_opt_in,
            Subscriber.topic_news,
        )
        .where(Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.email.is_not(None))
        .order_by(Subscriber.id)
    )
    answers: dict[tuple[Preferences, bool], bool] = {}
    pending: list[dict[str, Any]] = []
    count = 0
    for sub_id, ages, needs, categories, localities, paid, topic_news in rows:
        prefs = Preferences(
            frozenset(ages or ()),
            frozenset(needs or ()),
            frozenset(categories or ()),
            frozenset(localities or ()),
            bool(paid),
        )
        key = (prefs, topic_news is not False)
        if key not in answers:
            answers[key] = reaches(prefs, bulletin.audience or {}, key[1])
        if not answers[key]:
            continue
        pending.append(
            {
                "bulletin_id": bulletin_id,
                "subscriber_id": sub_id,
                "status": BulletinDeliveryStatus.PENDING,
                "attempts": 0,
            }
        )
        count += 1
        if len(pending) >= CHUNK:
            session.execute(insert(BulletinDelivery), pending)
            pending = []
    if pending:
        session.execute(insert(BulletinDelivery), pending)
    bulletin.urgent_recipients = count
    return count


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retry_error: str | None = None


def _claim(conn: Connection, bulletin_id: int, token: str) -> None:
    candidates = (
        select(BulletinDelivery.id)
        .where(
            BulletinDelivery.bulletin_id == bulletin_id,
            BulletinDelivery.status == BulletinDeliveryStatus.PENDING,
        )
        .order_by(BulletinDelivery.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    conn.execute(
        update(BulletinDelivery)
        .where(
            BulletinDelivery.id.in_(candidates),
            BulletinDelivery.status == BulletinDeliveryStatus.PENDING,
        )
        .values(
            status=BulletinDeliveryStatus.SENDING,
            claim_token=token,
            claimed_at=utcnow(),
            attempts=BulletinDelivery.attempts + 1,
        )
    )


def _set(conn: Connection, row_id: int, token: str, **values: Any) -> bool:
    done = conn.execute(
        update(BulletinDelivery)
        .where(
            BulletinDelivery.id == row_id,
            BulletinDelivery.claim_token == token,
            BulletinDelivery.status == BulletinDeliveryStatus.SENDING,
        )
        .values(**values)
    )
    return bool(done.rowcount == 1)


def message_for(bulletin: Bulletin, subscriber: Subscriber) -> OutgoingMessage:
    unsubscribe = links.unsubscribe_url(subscriber)
    assert subscriber.email is not None
    rendered = render(
        "bulletin",
        subscriber.email,
        title=bulletin.title,
        body_html=bulletin.body_html,
        body_text=bulletin.body_text,
        link=bulletin.link or "",
        web_url=public_url(bulletin.id),
        manage_url=links.manage_url(subscriber),
        unsubscribe_url=unsubscribe,
    )
    return OutgoingMessage(
        to=rendered.to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        unsubscribe_url=unsubscribe,
        reference=f"bu{bulletin.id}-s{subscriber.id}",
    )


def send_pending(bulletin_id: int, transport: Transport | None = None) -> SendResult:
    """Send every pending row of the bulletin's ledger, a batch at a time. Safe to run
    twice or side by side."""
    own = transport is None
    transport = transport or get_transport()
    result = SendResult()
    try:
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while result.retry_error is None:
                token = uuid.uuid4().hex
                _claim(conn, bulletin_id, token)
                if not _send_claimed(conn, bulletin_id, token, transport, result):
                    break
    finally:
        if own:
            transport.close()
    return result


def _send_claimed(
    conn: Connection, bulletin_id: int, token: str, transport: Transport, result: SendResult
) -> bool:
    with session_scope() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        rows = session.execute(
            select(BulletinDelivery.id, BulletinDelivery.subscriber_id).where(
                BulletinDelivery.claim_token == token
            )
        ).all()
        if not rows or bulletin is None:
            return False
        subscribers = {
            s.id: s
            for s in session.scalars(
                select(Subscriber).where(Subscriber.id.in_([r.subscriber_id for r in rows]))
            )
        }
        messages: list[tuple[int, OutgoingMessage | None]] = []
        for row_id, sub_id in rows:
            sub = subscribers.get(sub_id)
            if sub is None or not sub.is_active:
                messages.append((row_id, None))
            else:
                messages.append((row_id, message_for(bulletin, sub)))
    for row_id, message in messages:
        if result.retry_error is not None:
            _set(conn, row_id, token, status=BulletinDeliveryStatus.PENDING, claim_token=None)
            continue
        if message is None:
            _set(conn, row_id, token, status=BulletinDeliveryStatus.SKIPPED)
            result.skipped += 1
            continue
        marked: list[bool] = []

        def handover(row_id: int = row_id, marked: list[bool] = marked) -> None:
            ok = _set(conn, row_id, token, status=BulletinDeliveryStatus.SENT, sent_at=utcnow())
            marked.append(ok)
            if not ok:
                raise RetryableSendError("our claim on this delivery was taken back")

        try:
            transport.send(message, on_handover=handover)
            result.sent += 1
        except PermanentSendError as exc:
            _set(conn, row_id, token, status=BulletinDeliveryStatus.FAILED, error=str(exc)[:500])
            result.failed += 1
        except RetryableSendError as exc:
            if marked and not marked[0]:
                continue  # the sweeper gave the row to someone else
            _set(conn, row_id, token, status=BulletinDeliveryStatus.PENDING, claim_token=None)
            result.retry_error = str(exc)[:500]
    return True


def sweep(session: Session) -> list[int]:
    """Give back claims older than the lease; plan urgent bulletins never planned; return
    the bulletins that still have rows to send (the caller queues them after commit)."""
    session.execute(
        update(BulletinDelivery)
        .where(
            BulletinDelivery.status == BulletinDeliveryStatus.SENDING,
            BulletinDelivery.claimed_at < utcnow() - LEASE,
        )
        .values(status=BulletinDeliveryStatus.PENDING, claim_token=None)
    )
    unplanned = session.scalars(
        select(Bulletin.id).where(
            Bulletin.urgent.is_(True),
            Bulletin.state == BulletinState.APPROVED,
            Bulletin.urgent_planned_at.is_(None),
        )
    ).all()
    for bulletin_id in unplanned:
        plan(session, bulletin_id)
    return list(
        session.scalars(
            select(BulletinDelivery.bulletin_id)
            .where(BulletinDelivery.status == BulletinDeliveryStatus.PENDING)
            .group_by(BulletinDelivery.bulletin_id)
        )
    )


def progress(session: Session, bulletin_id: int) -> dict[str, int]:
    rows = session.execute(
        select(BulletinDelivery.status, func.count())
        .where(BulletinDelivery.bulletin_id == bulletin_id)
        .group_by(BulletinDelivery.status)
    ).all()
    return {status.value: int(n) for status, n in rows}
