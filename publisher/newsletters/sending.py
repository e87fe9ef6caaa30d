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
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from publisher.config import EditionSettings, get_settings
from publisher.db import get_engine, read_scope
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
    EditionVariant,
    EmailFormat,
    Subscriber,
    SubscriberStatus,
)
from publisher.newsletters.ledger import (
    LostClaim,
    SentMarks,
    claim,
    end_bounced,
    reference,
    release,
    renew,
    set_status,
)
from publisher.newsletters.rendering import (
    EditionView,
    RenderedVariant,
    edition_view,
    render_variant,
)
from publisher.subscriptions import links

T = TypeVar("T")
# Consecutive retryable failures after which a batch stops and is retried later (the
# provider is down or refusing us, not one address).
STOP_AFTER = 3
PREPARE_CHUNK = 20


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0
    unknown: int = 0
    ended: list[int] = field(default_factory=list)
    retry_error: str | None = None


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
            functools.partial(renew, token),
            max(1.0, settings.lease_seconds / 3),
            name=f"claim-{token[:8]}",
        ),
    ):
        _send_batch(conn, edition_id, subscriber_ids, token, transport, settings, result)
    for subscriber_id in result.ended:
        end_bounced(subscriber_id)
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
    claim(conn, edition_id, subscriber_ids, token)
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
    marks = SentMarks(conn, token)
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
    marks: SentMarks,
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
    marks: SentMarks,
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
        set_status(conn, row.id, token, DeliveryStatus.SKIPPED, "subscriber is no longer active")
        result.skipped += 1
    else:
        set_status(conn, row.id, token, DeliveryStatus.FAILED, str(message)[:500])
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
        set_status(conn, row.id, token, DeliveryStatus.UNKNOWN, outcome.reason, any_status=True)
        result.unknown += 1
        return failures_in_a_row + 1
    if isinstance(outcome, PermanentSendError):
        set_status(conn, row.id, token, DeliveryStatus.FAILED, outcome.reason, any_status=True)
        result.failed += 1
        if outcome.ends_subscription:
            result.ended.append(row.subscriber_id)
        return 0
    if isinstance(outcome, RetryableSendError):
        gave_up = row.attempts >= settings.max_attempts
        set_status(
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
            result.released += release(conn, token)
            result.retry_error = outcome.reason
        return failures_in_a_row + 1
    # LostClaim (or held back at the handover): the row is someone else's now.
    return failures_in_a_row


def _chunks(values: list[T], size: int) -> Iterable[list[T]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
