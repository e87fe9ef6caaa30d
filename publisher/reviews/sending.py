"""Opening reviews and sending review emails through the idempotency ledger.

``open_planned`` turns today's plan into rows: a ``Review`` per entry (one open review per
entry, a unique index) and a ``ReviewMail`` per review and kind (unique too), all
"pending". Running it twice writes nothing new.

``send_pending`` sends one email per address. For each address it claims every pending
ledger row with one conditional UPDATE, committed before any SMTP traffic (FOR UPDATE
SKIP LOCKED on PostgreSQL). The transport calls back just before the provider takes the
message (for SMTP, before the final "." of DATA) and the rows are marked "sent" there,
fenced on our claim token, on an autocommit connection:

- killed before that mark: the rows stay "sending" and the message was never completed
  (the server drops a DATA without its "."); after ``CLAIM_LEASE`` the next run gives
  them back and the email goes once;
- killed after it: the rows say "sent"; nothing sends them again. So a provider never
  gets a second copy of a request, whatever a worker dies doing;
- a claim taken back from a stalled worker fails the fence: that worker aborts the
  message rather than send a duplicate.

An SMTP 5xx for the recipient marks the address undeliverable: its reviews show it in the
worklist and it is suppressed for review requests (no retries forever).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from publisher.config import get_settings
from publisher.db import get_engine, session_scope, utcnow
from publisher.mail import (
    OutgoingMessage,
    PermanentSendError,
    RetryableSendError,
    Transport,
    get_transport,
)
from publisher.models import (
    Entry,
    MailStatus,
    ReplyKind,
    Review,
    ReviewMail,
    ReviewStatus,
    ReviewSuppression,
    Source,
)
from publisher.reviews import emails
from publisher.reviews.plan import Plan, plan

CLAIM_LEASE = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 5
STOP_AFTER = 3


class LostClaim(RuntimeError):
    """Our claim was taken back; the message must not go."""


@dataclass
class SendResult:
    opened: int = 0
    sent: int = 0
    failed: int = 0
    released: int = 0
    undeliverable: list[str] = field(default_factory=list)
    no_reply: int = 0
    retry_error: str | None = None


def open_planned(session: Session, today_plan: Plan) -> int:
    """Write the plan's reviews and ledger rows (committed per address); returns how many
    reviews were opened. Safe to run twice: the unique keys keep one of each."""
    opened = 0
    now = utcnow()
    for mail in today_plan.mails:
        try:
            with session.begin_nested():
                for item in mail.entries:
                    review_id = item.review_id
                    if review_id is None:
                        entry = session.get(Entry, item.entry_pk)
                        if entry is None or not entry.present:
                            continue
                        review = Review(
                            entry_pk=entry.id,
                            source_id=entry.source_id,
                            entry_id=entry.entry_id,
                            address=mail.address,
                            assured_at_open=entry.assured_date,
                            hash_at_open=entry.content_hash,
                            opened_at=now,
                        )
                        session.add(review)
                        session.flush()
                        review_id = review.id
                        opened += 1
                    session.add(
                        ReviewMail(
                            review_id=review_id,
                            address=mail.address,
                            kind=item.kind,
                            created_at=now,
                        )
                    )
                session.flush()
        except IntegrityError:
            # Another run opened these first: theirs stand.
            continue
    if today_plan.no_reply_review_ids:
        mark_no_reply(session, today_plan.no_reply_review_ids)
    session.commit()
    return opened


def mark_no_reply(session: Session, review_ids: Sequence[int]) -> int:
    done = session.execute(
        update(Review)
        .where(
            Review.id.in_(list(review_ids)),
            Review.status == ReviewStatus.OPEN,
            Review.reply == ReplyKind.NONE,
        )
        .values(reply=ReplyKind.NO_REPLY, replied_at=utcnow())
    )
    return int(getattr(done, "rowcount", 0) or 0)


def release_stale_claims(now: dt.datetime | None = None) -> int:
    """Give back claims of a worker that died before the hand-over (never completed)."""
    before = (now or utcnow()) - CLAIM_LEASE
    with session_scope() as session:
        done = session.execute(
            update(ReviewMail)
            .where(ReviewMail.status == MailStatus.SENDING, ReviewMail.claimed_at < before)
            .values(status=MailStatus.PENDING, claim_token=None, claimed_at=None)
        )
        return int(getattr(done, "rowcount", 0) or 0)


def run_daily(
    limit: int | None = None, transport: Transport | None = None, *, source: str | None = None
) -> SendResult:
    """Plan today's requests, write them, and send them (the beat task and the CLI)."""
    with session_scope() as session:
        today_plan = plan(session, source=source)
        opened = open_planned(session, today_plan)
        no_reply = len(today_plan.no_reply_review_ids)
    result = send_pending(limit=limit, transport=transport)
    result.opened, result.no_reply = opened, no_reply
    return result


def send_for_entries(entry_pks: list[int], transport: Transport | None = None) -> SendResult:
    """An officer's choice from the stale report: ask about these entries now (no daily
    cap, no lead time; entries with an open review are left as they are)."""
    with session_scope() as session:
        chosen = plan(session, entry_pks=entry_pks, ignore_limit=True)
        opened = open_planned(session, chosen)
        addresses = [m.address for m in chosen.mails]
    result = send_pending(addresses=addresses, transport=transport)
    result.opened = opened
    return result


def send_pending(
    *,
    limit: int | None = None,
    addresses: list[str] | None = None,
    transport: Transport | None = None,
) -> SendResult:
    """One email per address with pending ledger rows (at most ``limit`` addresses)."""
    result = SendResult()
    result.released += release_stale_claims()
    with session_scope() as session:
        query = (
            select(ReviewMail.address)
            .where(ReviewMail.status == MailStatus.PENDING)
            .group_by(ReviewMail.address)
            .order_by(func.min(ReviewMail.id))
        )
        if addresses is not None:
            query = query.where(ReviewMail.address.in_(addresses))
        if limit is not None:
            query = query.limit(max(0, limit))
        todo = list(session.scalars(query))
    if not todo:
        return result
    own = transport is None
    transport = transport or get_transport()
    failures_in_a_row = 0
    try:
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for address in todo:
                outcome = _send_address(conn, transport, address, result)
                failures_in_a_row = failures_in_a_row + 1 if outcome == "retry" else 0
                if failures_in_a_row >= STOP_AFTER:
                    break  # the mail server is down: the rest wait for the next run
    finally:
        if own:
            transport.close()
    return result


def _claim(conn: Connection, address: str, token: str) -> None:
    candidates = (
        select(ReviewMail.id)
        .where(ReviewMail.address == address, ReviewMail.status == MailStatus.PENDING)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time
    )
    conn.execute(
        update(ReviewMail)
        .where(ReviewMail.id.in_(candidates), ReviewMail.status == MailStatus.PENDING)
        .values(
            status=MailStatus.SENDING,
            claim_token=token,
            claimed_at=utcnow(),
            attempts=ReviewMail.attempts + 1,
        )
    )


def _claimed(token: str) -> list[Any]:
    with session_scope() as session:
        return list(
            session.execute(
                select(
                    ReviewMail.id,
                    ReviewMail.kind,
                    ReviewMail.attempts,
                    Review.id.label("review_id"),
                    Review.status,
                    Review.reply,
                    Entry.name,
                    Entry.entry_id,
                    Entry.present,
                    Source.name.label("source"),
                )
                .join(Review, Review.id == ReviewMail.review_id)
                .join(Entry, Entry.id == Review.entry_pk)
                .join(Source, Source.id == Review.source_id)
                .where(ReviewMail.claim_token == token)
                .order_by(Entry.name, Entry.id)
            ).all()
        )


def _send_address(conn: Connection, transport: Transport, address: str, result: SendResult) -> str:
    token = uuid.uuid4().hex
    _claim(conn, address, token)
    rows = _claimed(token)
    if not rows:
        return "none"  # another worker has them
    live = [
        r
        for r in rows
        if r.status is ReviewStatus.OPEN and r.present and r.reply in (ReplyKind.NONE,)
    ]
    if not live:
        # Answered or closed since planning: nothing to ask.
        _finish(conn, token, MailStatus.FAILED, "no longer needed")
        return "none"
    rendered = emails.review_email(address, live)
    domain = get_settings().mail.message_id_domain
    first = min(r.id for r in rows)
    message = OutgoingMessage(
        to=address,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        reference=f"rv{first}",
        # The same Message-ID on every attempt, so a receiver can tell a repeat.
        message_id=f"<review-{first}@{domain}>",
        maybe_sent=max(r.attempts for r in rows) > 1,
    )

    def handover() -> None:
        done = conn.execute(
            update(ReviewMail)
            .where(ReviewMail.claim_token == token, ReviewMail.status == MailStatus.SENDING)
            .values(status=MailStatus.SENT, sent_at=utcnow(), error=None)
        )
        if not done.rowcount:
            raise LostClaim(f"review emails to {address} were claimed by someone else")

    try:
        transport.send(message, on_handover=handover)
    except LostClaim:
        return "none"
    except PermanentSendError as exc:
        _finish(conn, token, MailStatus.FAILED, exc.reason)
        result.failed += 1
        if exc.ends_subscription:
            _undeliverable(conn, address, exc.reason)
            result.undeliverable.append(address)
        return "failed"
    except RetryableSendError as exc:
        gave_up = max(r.attempts for r in rows) >= MAX_ATTEMPTS
        _finish(conn, token, MailStatus.FAILED if gave_up else MailStatus.PENDING, exc.reason)
        result.released += 0 if gave_up else len(rows)
        result.failed += 1 if gave_up else 0
        result.retry_error = exc.reason
        return "retry"
    now = utcnow()
    conn.execute(
        update(Review)
        .where(Review.id.in_([r.review_id for r in rows]), Review.first_sent_at.is_(None))
        .values(first_sent_at=now)
    )
    result.sent += 1
    return "sent"


def _finish(conn: Connection, token: str, status: MailStatus, error: str | None) -> None:
    values: dict[str, Any] = {"status": status, "error": (error or "")[:500] or None}
    if status is MailStatus.PENDING:
        values.update(claim_token=None, claimed_at=None)
    conn.execute(
        update(ReviewMail)
        .where(ReviewMail.claim_token == token, ReviewMail.status == MailStatus.SENDING)
        .values(**values)
    )


def _undeliverable(conn: Connection, address: str, reason: str) -> None:
    conn.execute(
        update(Review)
        .where(Review.address == address, Review.status == ReviewStatus.OPEN)
        .values(undeliverable=reason[:500])
    )
    exists = conn.execute(
        select(ReviewSuppression.address).where(ReviewSuppression.address == address)
    ).first()
    if exists is None:
        try:
            conn.execute(
                insert(ReviewSuppression).values(
                    address=address,
                    reason="undeliverable",
                    detail=reason[:500],
                    created_at=utcnow(),
                )
            )
        except IntegrityError:
            pass  # another worker recorded it first


def record_review_bounce(session: Session, ref: str, reason: str) -> bool:
    """Notify told us later that a review email could not be delivered (its
    ``permanent-failure`` callback, reference "rv<ledger id>"): the address becomes
    undeliverable, as for an SMTP 5xx."""
    if not ref.startswith("rv") or not ref[2:].isdigit():
        return False
    mail = session.get(ReviewMail, int(ref[2:]))
    if mail is None:
        return False
    address = mail.address
    session.execute(
        update(Review)
        .where(Review.address == address, Review.status == ReviewStatus.OPEN)
        .values(undeliverable=reason[:500])
    )
    if session.get(ReviewSuppression, address) is None:
        session.add(ReviewSuppression(address=address, reason="undeliverable", detail=reason))
    return True
