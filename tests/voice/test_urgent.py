"""Urgent bulletins: only an approver can send one at once; it reaches everyone it matches
whatever their frequency, exactly once each, even when the task runs twice or a claim is
left behind by a dead worker; it is audited and not repeated in editions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from publisher.bulletins import urgent
from publisher.bulletins.editions import bulletin_items
from publisher.db import session_scope, utcnow
from publisher.models import (
    AuditEvent,
    Bulletin,
    BulletinDelivery,
    BulletinDeliveryStatus,
    Frequency,
    SubscriberStatus,
)
from tests.mailsink import MailSink
from tests.newsletters.helpers import parse, parts, subscriber

# Dates worked out from now: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def test_send_now_reaches_each_match_once(
    db: Any, sign_in: Any, session: Session, mail_sink: MailSink
) -> None:
    subscriber(
        session, "monthly@example.org", frequency=Frequency.MONTHLY, needs=["sensory-physical"]
    )
    subscriber(session, "daily@example.org", frequency=Frequency.DAILY)
    subscriber(session, "other-need@example.org", needs=["cognition-learning"])
    subscriber(session, "left@example.org", status=SubscriberStatus.ENDED)
    follower = subscriber(session, "follower@example.org")
    follower.topic_news = False
    follower.follows = ["demo:a"]
    session.commit()
    editor, approver = sign_in("editor"), sign_in("approver")
    editor.post(
        "/console/bulletins/new",
        {
            "title": "Sensory room closed today",
            "body": "The room is closed today.",
            "needs": ["sensory-physical"],
        },
        page="/console/bulletins/new",
    )
    b = session.scalars(select(Bulletin)).one()
    page = f"/console/bulletins/{b.id}"
    # An editor may not; without the tick box nothing happens.
    assert (
        editor.post(f"{page}/approve", {"action": "send-now", "confirm": "yes"}).status_code == 403
    )
    approver.post(f"{page}/approve", {"action": "send-now"}, page=page)
    session.expire_all()
    assert session.get(Bulletin, b.id).state.value == "draft"  # type: ignore[union-attr]
    answer = approver.post(f"{page}/approve", {"action": "send-now", "confirm": "yes"}, page=page)
    assert answer.status_code == 303
    # The task (queued after commit) plans and sends; run its two steps here, twice.
    for _ in range(2):
        with session_scope() as s:
            urgent.plan(s, b.id)
        urgent.send_pending(b.id)
    got = sorted(m.rcpt_tos[0] for m in mail_sink.messages)
    assert got == ["daily@example.org", "monthly@example.org"]
    message = parse(mail_sink.messages[0].data)
    assert message["List-Unsubscribe"].startswith("<http")
    text, html = parts(message)
    assert "The room is closed today." in text and html is not None
    session.expire_all()
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "bulletin.send_urgent")
    ).one()
    assert event.actor_email == "approver@council.example"
    with session_scope() as s:
        assert bulletin_items(s, Frequency.WEEKLY, utcnow() + dt.timedelta(days=1)) == []
        counts = dict(
            s.execute(
                select(BulletinDelivery.status, func.count()).group_by(BulletinDelivery.status)
            )
            .tuples()
            .all()
        )
        assert counts == {BulletinDeliveryStatus.SENT: 2}


def test_a_dead_workers_claim_is_given_back_and_sent_once(
    db: Any, session: Session, mail_sink: MailSink
) -> None:
    subscriber(session, "a@example.org")
    subscriber(session, "b@example.org")
    b = Bulletin(
        title="Road closed",
        body_source="x",
        body_html="<p>x</p>",
        body_text="x",
        audience={},
        urgent=True,
        state="approved",
        approved_at=utcnow(),
    )
    session.add(b)
    session.commit()
    with session_scope() as s:
        assert urgent.plan(s, b.id) == 2
        assert urgent.plan(s, b.id) == 0
    # A worker claimed both rows and died before handing anything over.
    with session_scope() as s:
        s.execute(
            update(BulletinDelivery).values(
                status=BulletinDeliveryStatus.SENDING,
                claim_token="dead",
                claimed_at=utcnow() - dt.timedelta(hours=1),
            )
        )
    assert urgent.send_pending(b.id).sent == 0  # nothing pending yet
    with session_scope() as s:
        assert urgent.sweep(s) == [b.id]
    assert urgent.send_pending(b.id).sent == 2
    assert urgent.send_pending(b.id).sent == 0
    assert sorted(m.rcpt_tos[0] for m in mail_sink.messages) == ["a@example.org", "b@example.org"]
