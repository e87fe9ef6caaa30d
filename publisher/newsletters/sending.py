"""Sending an edition through the delivery ledger.

A send task carries an edition id and a batch of subscriber ids. It claims the pending
ledger rows for them with one conditional UPDATE (FOR UPDATE SKIP LOCKED on
PostgreSQL), so two tasks for the same batch never both send. For each claimed row the
transport calls back just before the provider takes the message (for SMTP, before the
final "." of DATA) and we mark it "sent" there, fenced on our claim token, on a
connection in autocommit so that the mark is durable when the UPDATE returns:

- killed before that commit: the row stays "sending"; the message was never completed,
  so the sweeper gives the row back (pending) and it is sent once, later;
- killed after it: the row says "sent" and the message went (or, if the process died in
  the microseconds between commit and the final ".", the server dropped it: the one
  window left, where one person could miss one edition but nobody gets two);
- the server's reply to the final "." lost (the connection dropped after the server
  took the message): the row becomes "unknown", counted in ``editions list`` and never
  sent again (at most once: one person may miss one edition, nobody gets two);
- a claim the sweeper took back (a stalled worker) fails the fence: that worker aborts
  the message instead of sending a duplicate. Claims are short leases
  (``DELIVERY_LEASE_SECONDS``) renewed by a heartbeat while the batch is sent, so a dead
  worker's rows are taken back within about a minute.
"""

from __future__ import annotations

import functools
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from publisher.config import EditionSettings, get_settings
from publisher.db import UTCDateTime, get_engine, read_scope, session_scope, utcnow
from publisher.heartbeat import heartbeat
from publisher.mail import (
    OutgoingMessage,
    PermanentSendError,
    RetryableSendError,
    Transport,
    UnknownSendOutcome,
    get_transport,
)
from publisher.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    EditionVariant,
    EmailFormat,
    EndReason,
    Subscriber,
    SubscriberStatus,
)
from publisher.newsletters.rendering import (
    EditionView,
    RenderedVariant,
    edition_view,
    render_variant,
)
from publisher.subscriptions import links

SendBatch = Callable[[int, list[int]], None]
T = TypeVar("T")
# Consecutive retryable failures after which a batch stops and is retried later (the
# provider is down or refusing us, not one address).
STOP_AFTER = 3
PREPARE_CHUNK = 20


class LostClaim(RuntimeError):
    """Our claim on a ledger row was taken back; the message must not go."""


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0
    unknown: int = 0
    ended: list[int] = field(default_factory=list)
    retry_error: str | None = None


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


# Per-process caches: a worker sees the same edition and variants batch after batch.
_views: OrderedDict[int, EditionView] = OrderedDict()
_variants: OrderedDict[tuple[int, int, bool], RenderedVariant] = OrderedDict()


def _view(session: Session, edition_id: int) -> EditionView | None:
    view = _views.get(edition_id)
    if view is None:
        edition = session.get(Edition, edition_id)
        if edition is None:
            return None
        view = edition_view(
            edition.id, edition.frequency, edition.window_start, edition.window_end, edition.items
        )
        _views[edition_id] = view
        while len(_views) > 4:
            _views.popitem(last=False)
    return view


def _rendered_all(
    session: Session,
    view: EditionView,
    wanted: set[tuple[int, bool]],
    settings: EditionSettings,
) -> dict[tuple[int, bool], RenderedVariant]:
    """The rendered variants a batch needs, keyed by (variant number, with HTML); those
    not cached are read in one query, not one per variant."""
    out: dict[tuple[int, bool], RenderedVariant] = {}
    missing: set[tuple[int, bool]] = set()
    for number, with_html in wanted:
        key = (view.edition_id, number, with_html)
        found = _variants.get(key)
        if found is None:
            missing.add((number, with_html))
        else:
            _variants.move_to_end(key)
            out[(number, with_html)] = found
    if missing:
        variants = session.execute(
            select(
                EditionVariant.number,
                EditionVariant.item_indexes,
                EditionVariant.adulthood_section,
                EditionVariant.needs_note,
            ).where(
                EditionVariant.edition_id == view.edition_id,
                EditionVariant.number.in_(sorted({n for n, _ in missing})),
            )
        ).all()
        by_number = {v.number: v for v in variants}
        for number, with_html in missing:
            variant = by_number[number]
            rendered = render_variant(
                view,
                list(variant.item_indexes),
                variant.adulthood_section,
                settings.max_items,
                with_html,
                variant.needs_note,
            )
            out[(number, with_html)] = rendered
            _variants[(view.edition_id, number, with_html)] = rendered
        while len(_variants) > 128:
            _variants.popitem(last=False)
    return out


@functools.cache
def _transport() -> Transport:
    # One per process, so the SMTP connection is reused from batch to batch.
    return get_transport()


def reset_process_state() -> None:
    """Forget caches and close the transport (tests; worker shutdown)."""
    _views.clear()
    _variants.clear()
    if _transport.cache_info().currsize:
        _transport().close()
    _transport.cache_clear()


def _claim(conn: Connection, edition_id: int, subscriber_ids: Sequence[int], token: str) -> None:
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


class _SentMarks:
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


def send_batch(
    edition_id: int,
    subscriber_ids: Sequence[int],
    *,
    transport: Transport | None = None,
    settings: EditionSettings | None = None,
) -> BatchResult:
    """Send one batch of an edition; safe to run twice or concurrently."""
    settings = settings or get_settings().editions
    transport = transport or _transport()
    result = BatchResult()
    token = uuid.uuid4().hex
    engine = get_engine()
    # Autocommit: every statement here is one conditional UPDATE that stands on its own
    # (claim, sent, skipped, failed, given back) and is committed, durably (the database
    # server's own synchronous commit), when it returns: a "sent" mark is on disk before
    # the message's final "." is written, so even a crash of the database server cannot
    # make the sweeper send it again.
    with (
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        heartbeat(
            functools.partial(_renew, token),
            max(1.0, settings.lease_seconds / 3),
            name=f"claim-{token[:8]}",
        ),
    ):
        _send_batch(conn, edition_id, subscriber_ids, token, transport, settings, result)
    for subscriber_id in result.ended:
        _end_subscription(subscriber_id)
    return result


def _send_batch(
    conn: Connection,
    edition_id: int,
    subscriber_ids: Sequence[int],
    token: str,
    transport: Transport,
    settings: EditionSettings,
    result: BatchResult,
) -> None:
    _claim(conn, edition_id, subscriber_ids, token)
    # Read only: on SQLite this must not hold the write lock while variants are rendered
    # (the other workers' "sent" marks would wait for it).
    with read_scope() as session:
        view = _view(session, edition_id)
        rows = session.execute(
            select(
                Delivery.id,
                Delivery.subscriber_id,
                Delivery.variant,
                Delivery.attempts,
                Subscriber.email,
                Subscriber.status,
                Subscriber.format,
                Subscriber.token_version,
            )
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.claim_token == token)
            .order_by(Delivery.variant, Delivery.subscriber_id)
        ).all()
        if view is None or not rows:
            return
        domain = get_settings().mail.message_id_domain
        sendable = [
            (row, (row.variant, row.format is EmailFormat.HTML))
            for row in rows
            if row.status is SubscriberStatus.ACTIVE and row.email
        ]
        rendered = _rendered_all(session, view, {key for _, key in sendable}, settings)
        prepared: list[tuple[Any, RenderedVariant | None]] = [
            (row, None)
            for row in rows
            if row.status is not SubscriberStatus.ACTIVE or not row.email
        ]
        prepared.extend((row, rendered[key]) for row, key in sendable)
    _send_claimed(conn, transport, edition_id, token, prepared, domain, settings, result)


def _send_claimed(
    conn: Connection,
    transport: Transport,
    edition_id: int,
    token: str,
    prepared: list[tuple[Any, RenderedVariant | None]],
    domain: str,
    settings: EditionSettings,
    result: BatchResult,
) -> None:
    failures_in_a_row = 0
    sender = get_settings().mail.mail_from
    prebuild = transport.name in {"smtp", "outbox"}

    def build(item: tuple[Any, RenderedVariant | None]) -> OutgoingMessage | ValueError | None:
        row, rendered = item
        if rendered is None:
            return None
        stub = Subscriber(id=row.subscriber_id, token_version=row.token_version)
        unsubscribe = links.unsubscribe_url(stub)
        manage = links.manage_url(stub)
        body: str | None = None
        html: str | None = None
        encoded = None
        if prebuild:
            encoded = rendered.encoded(manage, unsubscribe)
        else:
            body, html = rendered.personalise(manage, unsubscribe)
        message = OutgoingMessage(
            to=row.email,
            subject=rendered.subject,
            text=body,
            html=html,
            encoded=encoded,
            unsubscribe_url=unsubscribe,
            reference=reference(edition_id, row.subscriber_id),
            # The same Message-ID on every attempt: a receiving system that sees a
            # message twice (a reply lost after the server took it) can tell.
            message_id=f"<{reference(edition_id, row.subscriber_id)}@{domain}>",
            # A second attempt: the first may have reached the provider unanswered.
            maybe_sent=row.attempts > 1,
        )
        if prebuild:
            try:
                message.to_bytes(sender, domain)
            except ValueError as exc:  # an address or header we cannot send
                return exc
        return message

    def build_some(
        items: list[tuple[Any, RenderedVariant | None]],
    ) -> list[OutgoingMessage | ValueError | None]:
        return [build(item) for item in items]

    # Messages are built in a second thread while this one waits on the SMTP server and
    # the database (socket waits release the GIL); sending stays strictly in order here.
    # The thread takes PREPARE_CHUNK messages at a time: a future per message cost more
    # than building the message's headers.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare")
    built = (
        message
        for messages in pool.map(build_some, list(_chunks(prepared, PREPARE_CHUNK)))
        for message in messages
    )
    marks = _SentMarks(conn, token)
    group_size = getattr(transport, "group_size", 1) if hasattr(transport, "send_group") else 1
    group: list[tuple[Any, OutgoingMessage]] = []
    try:
        for (row, _), message in zip(prepared, built, strict=True):
            if group_size > 1 and isinstance(message, OutgoingMessage):
                group.append((row, message))
                if len(group) < group_size:
                    continue
                failures_in_a_row = _send_group(
                    conn, marks, transport, token, group, settings, result, failures_in_a_row
                )
                group = []
            else:
                failures_in_a_row = _send_one(
                    conn,
                    marks,
                    transport,
                    token,
                    row,
                    message,
                    settings,
                    result,
                    failures_in_a_row,
                )
            if failures_in_a_row >= STOP_AFTER:
                return  # the provider is down: the rest of the claim was given back
        if group:
            _send_group(conn, marks, transport, token, group, settings, result, failures_in_a_row)
    finally:
        marks.close()
        pool.shutdown(wait=False, cancel_futures=True)


def _send_one(
    conn: Connection,
    marks: _SentMarks,
    transport: Transport,
    token: str,
    row: Any,
    message: OutgoingMessage | ValueError | None,
    settings: EditionSettings,
    result: BatchResult,
    failures_in_a_row: int,
) -> int:
    """Send one claimed delivery; returns the count of retryable failures in a row."""
    if not isinstance(message, OutgoingMessage):
        _unsendable(conn, token, row, message, result)
        return failures_in_a_row

    def handover(delivery_id: int = row.id) -> None:
        if not marks.mark(delivery_id):
            raise LostClaim(f"delivery {delivery_id} was claimed by someone else")

    outcome: Exception | None = None
    try:
        transport.send(message, on_handover=handover)
    except (LostClaim, UnknownSendOutcome, PermanentSendError, RetryableSendError) as exc:
        outcome = exc
    return _record(conn, token, row, outcome, settings, result, failures_in_a_row)


def _send_group(
    conn: Connection,
    marks: _SentMarks,
    transport: Any,
    token: str,
    group: list[tuple[Any, OutgoingMessage]],
    settings: EditionSettings,
    result: BatchResult,
    failures_in_a_row: int,
) -> int:
    """Several claimed deliveries side by side (SMTP, one connection each): one durable
    commit marks them all "sent" before any of their final "." is written."""

    def handover(indexes: list[int]) -> set[int]:
        ours = marks.mark_many([group[i][0].id for i in indexes])
        return {i for i in indexes if group[i][0].id in ours}

    outcomes = transport.send_group([message for _, message in group], handover)
    for (row, _), sent in zip(group, outcomes, strict=True):
        outcome = None if isinstance(sent, str) else sent
        failures_in_a_row = _record(conn, token, row, outcome, settings, result, failures_in_a_row)
    return failures_in_a_row


def _unsendable(
    conn: Connection, token: str, row: Any, message: ValueError | None, result: BatchResult
) -> None:
    if message is None:
        _set(conn, row.id, token, DeliveryStatus.SKIPPED, "subscriber is no longer active")
        result.skipped += 1
    else:
        _set(conn, row.id, token, DeliveryStatus.FAILED, str(message)[:500])
        result.failed += 1


def _record(
    conn: Connection,
    token: str,
    row: Any,
    outcome: Exception | None,
    settings: EditionSettings,
    result: BatchResult,
    failures_in_a_row: int,
) -> int:
    """Record how one delivery went; returns the count of retryable failures in a row."""
    if outcome is None:
        result.sent += 1
        return 0
    if isinstance(outcome, UnknownSendOutcome):
        # The message was written whole; the reply never came. It may have arrived:
        # recorded as unknown and never sent again.
        _set(conn, row.id, token, DeliveryStatus.UNKNOWN, outcome.reason, any_status=True)
        result.unknown += 1
        return failures_in_a_row + 1
    if isinstance(outcome, PermanentSendError):
        _set(conn, row.id, token, DeliveryStatus.FAILED, outcome.reason, any_status=True)
        result.failed += 1
        if outcome.ends_subscription:
            result.ended.append(row.subscriber_id)
        return 0
    if isinstance(outcome, RetryableSendError):
        gave_up = row.attempts >= settings.max_attempts
        _set(
            conn,
            row.id,
            token,
            DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
            outcome.reason,
            any_status=True,
        )
        if gave_up:
            result.failed += 1
        else:
            result.released += 1
            # Rows given back need another run of this batch later.
            result.retry_error = outcome.reason
        if failures_in_a_row + 1 >= STOP_AFTER:
            result.released += _release(conn, token)
            result.retry_error = outcome.reason
        return failures_in_a_row + 1
    # LostClaim (or held back at the handover): the row is someone else's now.
    return failures_in_a_row


def _set(
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


def _release(conn: Connection, token: str) -> int:
    """Give back every row of this claim not yet handed over."""
    done = conn.execute(
        update(Delivery)
        .where(Delivery.claim_token == token, Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING, claim_token=None, claimed_at=None)
    )
    return int(done.rowcount or 0)


def _renew(token: str) -> None:
    """The heartbeat: this batch's claims are still being worked on."""
    with get_engine().begin() as conn:
        conn.execute(
            update(Delivery)
            .where(Delivery.claim_token == token, Delivery.status == DeliveryStatus.SENDING)
            .values(claimed_at=utcnow())
        )


def _end_subscription(subscriber_id: int) -> None:
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


def dispatch(
    session: Session, edition_id: int, send: SendBatch, settings: EditionSettings | None = None
) -> int:
    """Hand every pending delivery of an edition to ``send`` in batches, grouped by
    variant so that a worker renders few variants per batch. Returns the batch count.
    Call after the edition is committed (queue after commit)."""
    settings = settings or get_settings().editions
    ids = session.scalars(
        select(Delivery.subscriber_id)
        .where(Delivery.edition_id == edition_id, Delivery.status == DeliveryStatus.PENDING)
        .order_by(Delivery.variant, Delivery.subscriber_id)
    ).all()
    edition = session.get(Edition, edition_id)
    if edition is not None:
        edition.dispatched_at = utcnow()
        session.commit()
    batches = 0
    for chunk in _chunks(list(ids), settings.batch_size):
        send(edition_id, chunk)
        batches += 1
    return batches


def _chunks(values: list[T], size: int) -> Iterable[list[T]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


@dataclass
class SweepResult:
    released: int = 0
    requeued_editions: list[int] = field(default_factory=list)
    finished_editions: list[int] = field(default_factory=list)
    resumed_builds: list[int] = field(default_factory=list)


def _repair_builds(stale_before: Any, settings: EditionSettings) -> list[int]:
    """Finish builds whose builder stopped: ``building`` with a stale heartbeat, or (left
    by versions before chunked builds) ``sending`` with news, no recipients and not one
    delivery written."""
    from publisher.newsletters.building import resume_build

    with session_scope() as session:
        has_delivery = select(Delivery.id).where(Delivery.edition_id == Edition.id).exists()
        half_built = session.scalars(
            select(Edition.id).where(
                Edition.status == EditionStatus.SENDING,
                Edition.recipients == 0,
                Edition.change_count > 0,
                Edition.built_through.is_(None),
                ~has_delivery,
            )
        ).all()
        if half_built:
            session.execute(
                update(Edition)
                .where(Edition.id.in_(half_built))
                .values(status=EditionStatus.BUILDING, built_through=0, heartbeat_at=None)
            )
        stalled = session.scalars(
            select(Edition.id).where(
                Edition.status == EditionStatus.BUILDING,
                (Edition.heartbeat_at.is_(None)) | (Edition.heartbeat_at < stale_before),
            )
        ).all()
    resumed = []
    for edition_id in stalled:
        with session_scope() as session:
            if resume_build(session, edition_id, settings=settings).edition_id is not None:
                resumed.append(edition_id)
    return resumed


def sweep(send: SendBatch, settings: EditionSettings | None = None) -> SweepResult:
    """Give back claims older than the lease, finish builds that were cut short, re-queue
    editions whose work was lost, and mark editions done once no delivery is left to
    send (sent, failed, skipped or unknown)."""
    import datetime as dt

    settings = settings or get_settings().editions
    now = utcnow()
    stale_before = now - dt.timedelta(seconds=settings.lease_seconds)
    out = SweepResult()
    with session_scope() as session:
        done = session.execute(
            update(Delivery)
            .where(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < stale_before)
            .values(status=DeliveryStatus.PENDING, claim_token=None, claimed_at=None)
        )
        out.released = int(getattr(done, "rowcount", 0) or 0)
    out.resumed_builds = _repair_builds(stale_before, settings)
    with session_scope() as session:
        editions = session.scalars(
            select(Edition).where(Edition.status == EditionStatus.SENDING)
        ).all()
        for edition in editions:
            counts: dict[DeliveryStatus, int] = dict(
                session.execute(
                    select(Delivery.status, func.count())
                    .where(Delivery.edition_id == edition.id)
                    .group_by(Delivery.status)
                )
                .tuples()
                .all()
            )
            pending = counts.get(DeliveryStatus.PENDING, 0)
            in_flight = counts.get(DeliveryStatus.SENDING, 0)
            if not pending and not in_flight:
                edition.status = EditionStatus.DONE
                edition.finished_at = now
                out.finished_editions.append(edition.id)
                continue
            recent = session.scalar(
                select(func.max(Delivery.claimed_at)).where(Delivery.edition_id == edition.id)
            )
            idle = (edition.dispatched_at is None or edition.dispatched_at < stale_before) and (
                recent is None or recent < stale_before
            )
            if pending and idle:
                out.requeued_editions.append(edition.id)
        session.commit()
    for edition_id in out.requeued_editions:
        with session_scope() as session:
            dispatch(session, edition_id, send, settings)
    return out
