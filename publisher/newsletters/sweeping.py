"""Handing an edition's deliveries to the send tasks, and the sweeper that keeps
editions moving when a worker, a builder or the broker lost their work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from publisher.config import EditionSettings, get_settings
from publisher.db import session_scope, utcnow
from publisher.models import Delivery, DeliveryStatus, Edition, EditionStatus

SendBatch = Callable[[int, list[int]], None]


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
    for start in range(0, len(ids), settings.batch_size):
        send(edition_id, list(ids[start : start + settings.batch_size]))
        batches += 1
    return batches


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
