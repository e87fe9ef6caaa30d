"""The delivery ledger: one row per (edition, subscriber), and the conditional UPDATEs
that move it (claim, "sent" before the final ".", skipped, failed, unknown, given back).
How a batch uses them, and why that sends each email at most once, is in
``publisher.newsletters.sending``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from publisher.db import UTCDateTime, get_engine, session_scope, utcnow
from publisher.models import Delivery, DeliveryStatus, EndReason, Subscriber


class LostClaim(RuntimeError):
    """Our claim on a ledger row was taken back; the message must not go."""


def reference(edition_id: int, subscriber_id: int) -> str:
    return f"ed{edition_id}-s{subscriber_id}"


def parse_reference(value: str) -> tuple[int, int] | None:
    try:
        edition, subscriber = value.split("-", 1)
        if edition.startswith("ed") and subscriber.startswith("s"):
            return int(edition[2:]), int(subscriber[1:])
    except ValueError:
        pass
    return None


def claim(conn: Connection, edition_id: int, subscriber_ids: Sequence[int], token: str) -> None:
    now = utcnow()
    candidates = (
        select(Delivery.id)
        .where(
            Delivery.edition_id == edition_id,
            Delivery.subscriber_id.in_(list(subscriber_ids)),
            Delivery.status == DeliveryStatus.PENDING,
        )
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite runs one writer at a time
    )
    conn.execute(
        update(Delivery)
        .where(Delivery.id.in_(candidates), Delivery.status == DeliveryStatus.PENDING)
        .values(
            status=DeliveryStatus.SENDING,
            claim_token=token,
            claimed_at=now,
            attempts=Delivery.attempts + 1,
        )
    )


_MARK_SENT = (
    "UPDATE deliveries SET status = 'sent', sent_at = %s, error = NULL "
    "WHERE id = %s AND claim_token = %s AND status = 'sending'"
)


class SentMarks:
    """The "sent" mark before each message's final ".", run straight on the driver's
    cursor: it runs once per email, and SQLAlchemy's handling of a statement cost more
    worker time than the UPDATE itself. The connection is in autocommit, so the mark is
    committed when ``mark`` returns."""

    def __init__(self, conn: Connection, token: str) -> None:
        dialect = conn.dialect
        # Only the placeholders differ: "?" for sqlite3, "%s" for psycopg.
        self._placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
        self._sql = _MARK_SENT.replace("%s", self._placeholder)
        # The column's own conversion (naive UTC text on SQLite, timestamptz on PostgreSQL).
        stamp = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        self._stamp: Callable[[Any], Any] = stamp or (lambda value: value)
        driver = conn.connection.dbapi_connection
        assert driver is not None
        self._cursor = driver.cursor()
        self._token = token

    def mark(self, delivery_id: int) -> bool:
        """True if the row was still ours and is now "sent"."""
        self._cursor.execute(self._sql, (self._stamp(utcnow()), delivery_id, self._token))
        return bool(self._cursor.rowcount == 1)

    def mark_many(self, delivery_ids: list[int]) -> set[int]:
        """Several marks in one statement and one commit (one disk flush): the ids
        that were still ours and are now "sent"."""
        p = self._placeholder
        ids = ", ".join([p] * len(delivery_ids))
        # Only placeholders are formatted into the statement; the values are bound.
        sql = (
            f"UPDATE deliveries SET status = 'sent', sent_at = {p}, error = NULL "  # noqa: S608
            f"WHERE claim_token = {p} AND status = 'sending' AND id IN ({ids}) RETURNING id"
        )
        self._cursor.execute(sql, (self._stamp(utcnow()), self._token, *delivery_ids))
        return {int(row[0]) for row in self._cursor.fetchall()}

    def close(self) -> None:
        self._cursor.close()


def set_status(
    conn: Connection,
    delivery_id: int,
    token: str,
    status: DeliveryStatus,
    error: str | None,
    *,
    any_status: bool = False,
) -> None:
    values: dict[str, Any] = {"status": status, "error": error}
    if status is DeliveryStatus.PENDING:
        values.update(claim_token=None, claimed_at=None)
    stmt = update(Delivery).where(Delivery.id == delivery_id, Delivery.claim_token == token)
    if not any_status:
        stmt = stmt.where(Delivery.status == DeliveryStatus.SENDING)
    conn.execute(stmt.values(**values))


def release(conn: Connection, token: str) -> int:
    """Give back every row of this claim not yet handed over."""
    done = conn.execute(
        update(Delivery)
        .where(Delivery.claim_token == token, Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING, claim_token=None, claimed_at=None)
    )
    return int(done.rowcount or 0)


def renew(token: str) -> None:
    """The heartbeat: this batch's claims are still being worked on."""
    with get_engine().begin() as conn:
        conn.execute(
            update(Delivery)
            .where(Delivery.claim_token == token, Delivery.status == DeliveryStatus.SENDING)
            .values(claimed_at=utcnow())
        )


def end_bounced(subscriber_id: int) -> None:
    from publisher.subscriptions.lifecycle import end_subscription

    with session_scope() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is not None:
            end_subscription(session, subscriber, EndReason.BOUNCED)


def record_permanent_failure(session: Session, ref: str, reason: str) -> bool:
    """A provider told us later that a message could not be delivered (Notify's
    ``permanent-failure`` callback): fail the delivery and end the subscription."""
    parsed = parse_reference(ref)
    if parsed is None:
        return False
    edition_id, subscriber_id = parsed
    delivery = session.scalars(
        select(Delivery).where(
            Delivery.edition_id == edition_id, Delivery.subscriber_id == subscriber_id
        )
    ).first()
    if delivery is None:
        return False
    delivery.status = DeliveryStatus.FAILED
    delivery.error = reason[:500]
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is not None:
        from publisher.subscriptions.lifecycle import end_subscription

        end_subscription(session, subscriber, EndReason.BOUNCED)
    return True
