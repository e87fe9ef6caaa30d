"""Running editions: build what is due, then hand its batches to a sender (Celery tasks
in production, a loop in this process for ``publisher editions run``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from publisher.config import EditionSettings, get_settings
from publisher.db import session_scope, utcnow
from publisher.models import Delivery, DeliveryStatus, Edition, Frequency
from publisher.newsletters.building import BuildResult, build_edition
from publisher.newsletters.sweeping import SendBatch, dispatch


def run_edition(
    frequency: Frequency,
    send: SendBatch,
    *,
    now: dt.datetime | None = None,
    close_now: bool = False,
    settings: EditionSettings | None = None,
) -> BuildResult:
    """Build the due edition of ``frequency`` (if any) and dispatch its batches."""
    settings = settings or get_settings().editions
    with session_scope() as session:
        result = build_edition(session, frequency, now=now, close_now=close_now, settings=settings)
    # A resumed build's edition is sent like a new one.
    if result.edition_id is not None and result.recipients:
        with session_scope() as session:
            dispatch(session, result.edition_id, send, settings)
    return result


def run_due(send: SendBatch, *, now: dt.datetime | None = None) -> dict[str, str]:
    """Every frequency whose edition is due (beat calls this every minute)."""
    now = now or utcnow()
    settings = get_settings().editions
    return {f.value: run_edition(f, send, now=now, settings=settings).reason for f in Frequency}


@dataclass(frozen=True)
class EditionSummary:
    id: int
    frequency: str
    window_start: dt.datetime
    window_end: dt.datetime
    status: str
    items: int
    recipients: int
    sent: int
    failed: int
    pending: int
    unknown: int = 0

    @property
    def state(self) -> str:
        """The status as a person should read it: a ``sending`` edition with no
        deliveries and news in it is a build that was cut short (the sweeper repairs it)."""
        if (
            self.status == "sending"
            and self.items
            and not (self.sent + self.failed + self.pending + self.unknown)
        ):
            return "incomplete"
        return self.status

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "frequency": self.frequency,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "status": self.status,
            "items": self.items,
            "recipients": self.recipients,
            "sent": self.sent,
            "failed": self.failed,
            "pending": self.pending,
            "unknown": self.unknown,
            "state": self.state,
        }


def summaries(session: Session, limit: int = 100) -> list[EditionSummary]:
    def count(*statuses: DeliveryStatus) -> Any:
        return func.coalesce(func.sum(case((Delivery.status.in_(statuses), 1), else_=0)), 0)

    rows = session.execute(
        select(
            Delivery.edition_id,
            count(DeliveryStatus.SENT),
            count(DeliveryStatus.FAILED),
            count(DeliveryStatus.PENDING, DeliveryStatus.SENDING),
            count(DeliveryStatus.UNKNOWN),
        ).group_by(Delivery.edition_id)
    ).all()
    counts = {r[0]: (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}
    editions = session.scalars(
        select(Edition).order_by(Edition.window_end.desc(), Edition.id.desc()).limit(limit)
    )
    out = []
    for e in editions:
        sent, failed, pending, unknown = counts.get(e.id, (0, 0, 0, 0))
        out.append(
            EditionSummary(
                id=e.id,
                frequency=e.frequency.value,
                window_start=e.window_start,
                window_end=e.window_end,
                status=e.status.value,
                items=len(e.items or []),
                recipients=e.recipients,
                sent=sent,
                failed=failed,
                pending=pending,
                unknown=unknown,
            )
        )
    return out
