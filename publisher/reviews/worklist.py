"""The officers' worklist of provider replies: what it lists, its two actions, its CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from publisher import audit
from publisher.changes import page_url
from publisher.db import utcnow
from publisher.models import Entry, ReplyKind, Review, ReviewStatus, ReviewSuppression, Source, User
from publisher.reviews.replies import FIELDS

# Replies an officer must act on (a review still waiting for its first answer is not one).
WORK_REPLIES = (
    ReplyKind.STILL_CORRECT,
    ReplyKind.NEEDS_CHANGE,
    ReplyKind.CLOSED,
    ReplyKind.NO_REPLY,
    ReplyKind.STOP,
)
DISMISS_REASON_LIMIT = 500


@dataclass(frozen=True)
class Difference:
    label: str
    directory: str
    provider: str


@dataclass(frozen=True)
class WorkItem:
    review_id: int
    source: str
    entry_id: str
    name: str
    link: str | None
    address: str | None
    reply: ReplyKind
    replied_at: dt.datetime | None
    undeliverable: str | None
    differences: list[Difference]
    note: str
    suppressed: str | None

    @property
    def label(self) -> str:
        if self.undeliverable and self.reply is ReplyKind.NONE:
            return "Email could not be delivered"
        return self.reply.label


def differences(review: Review) -> list[Difference]:
    fields = review.reply_fields or {}
    before = review.directory_fields or {}
    return [
        Difference(FIELDS.get(k, k), str(before.get(k, "")), str(v))
        for k, v in fields.items()
        if k in FIELDS
    ]


def work_items(
    session: Session,
    *,
    source: str | None = None,
    kind: str | None = None,
    min_age_days: int | None = None,
    now: dt.datetime | None = None,
) -> list[WorkItem]:
    """Open reviews with something to act on, newest reply first."""
    now = now or utcnow()
    query = (
        select(Review, Entry, Source)
        .join(Entry, Entry.id == Review.entry_pk)
        .join(Source, Source.id == Review.source_id)
        .where(
            Review.status == ReviewStatus.OPEN,
            or_(Review.reply.in_(WORK_REPLIES), Review.undeliverable.is_not(None)),
        )
    )
    if source:
        query = query.where(Source.name == source)
    if kind == "undeliverable":
        query = query.where(Review.undeliverable.is_not(None))
    elif kind:
        query = query.where(Review.reply == ReplyKind(kind))
    if min_age_days:
        query = query.where(Review.replied_at <= now - dt.timedelta(days=min_age_days))
    suppressed = dict(
        session.execute(select(ReviewSuppression.address, ReviewSuppression.reason)).tuples().all()
    )
    items = [
        WorkItem(
            review_id=review.id,
            source=src.name,
            entry_id=review.entry_id,
            name=entry.name,
            link=page_url(src, entry.entry_id, entry.url),
            address=review.address,
            reply=review.reply,
            replied_at=review.replied_at,
            undeliverable=review.undeliverable,
            differences=differences(review),
            note=review.reply_note or "",
            suppressed=suppressed.get(review.address or ""),
        )
        for review, entry, src in session.execute(query)
    ]
    items.sort(key=lambda i: i.replied_at or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    return items


class NotOpen(Exception):
    """The review was closed already (another officer, or a crawl)."""


def close(session: Session, review: Review, user: User | None, action: str, reason: str) -> None:
    """Close an open review and audit it (the caller commits). ``action``: "updated"
    (the officer changed the directory) or "dismissed" (with the officer's reason)."""
    if review.status is not ReviewStatus.OPEN:
        raise NotOpen()
    before = {"status": review.status, "reply": review.reply}
    review.status = ReviewStatus.CLOSED
    review.closed_at = utcnow()
    review.closed_by = user.id if user is not None else None
    review.closed_reason = reason[:DISMISS_REASON_LIMIT]
    audit.record(
        session,
        user,
        f"review.{action}",
        "review",
        review.id,
        before,
        {"status": review.status, "reply": review.reply, "closed_reason": review.closed_reason},
    )


def review_rows(session: Session, status: str | None = None) -> list[dict[str, Any]]:
    """Every review (the CLI's ``reviews list``), newest first."""
    query = (
        select(Review, Source.name)
        .join(Source, Source.id == Review.source_id)
        .order_by(Review.opened_at.desc(), Review.id.desc())
    )
    if status:
        query = query.where(Review.status == ReviewStatus(status))
    return [
        {
            "source": name,
            "entry_id": review.entry_id,
            "address": review.address,
            "status": review.status.value,
            "reply": review.reply.value,
            "replied_at": review.replied_at.isoformat() if review.replied_at else None,
            "closed_reason": review.closed_reason,
            "opened_at": review.opened_at.isoformat(),
            "undeliverable": review.undeliverable,
        }
        for review, name in session.execute(query)
    ]


def replies_csv(items: Iterable[WorkItem]) -> str:
    """One row per changed field (and one per reply without changes), for bulk updates
    in the directory platform. Every text cell is guarded against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "source",
            "entry id",
            "service",
            "reply",
            "replied",
            "from",
            "field",
            "directory says",
            "provider says",
            "provider's note",
        ]
    )
    for item in items:
        base = [
            cell(item.source),
            cell(item.entry_id),
            cell(item.name),
            item.label,
            item.replied_at.date().isoformat() if item.replied_at else "",
            cell(item.address or ""),
        ]
        rows = [[d.label, cell(d.directory), cell(d.provider)] for d in item.differences] or [
            ["", "", ""]
        ]
        for row in rows:
            writer.writerow([*base, *row, cell(item.note)])
    return out.getvalue()


def cell(value: str) -> str:
    """Stop spreadsheet formula injection: text from providers must never run as a formula."""
    value = value.replace("\x00", "")
    if (value and value.lstrip()[:1] in ("=", "+", "-", "@")) or value[:1] in ("\t", "\r"):
        return "'" + value
    return value


@dataclass(frozen=True)
class ReportItem:
    report_id: int
    source: str
    entry_id: str
    name: str
    link: str | None
    what: str
    details: str
    reporter_email: str | None
    created_at: dt.datetime


def report_items(session: Session, source: str | None = None) -> list[ReportItem]:
    """Parents' open reports, newest first."""
    from publisher.models import ProblemReport
    from publisher.reviews.reports import WHAT

    query = (
        select(ProblemReport, Entry, Source)
        .join(Entry, Entry.id == ProblemReport.entry_pk)
        .join(Source, Source.id == Entry.source_id)
        .where(ProblemReport.status == ReviewStatus.OPEN)
        .order_by(ProblemReport.created_at.desc(), ProblemReport.id.desc())
    )
    if source:
        query = query.where(Source.name == source)
    return [
        ReportItem(
            report_id=report.id,
            source=src.name,
            entry_id=entry.entry_id,
            name=entry.name,
            link=page_url(src, entry.entry_id, entry.url),
            what=WHAT.get(report.what, report.what),
            details=report.details,
            reporter_email=report.reporter_email,
            created_at=report.created_at,
        )
        for report, entry, src in session.execute(query)
    ]


def close_report(session: Session, report: Any, user: User | None, reason: str) -> None:
    if report.status is not ReviewStatus.OPEN:
        raise NotOpen()
    report.status = ReviewStatus.CLOSED
    report.closed_at = utcnow()
    report.closed_by = user.id if user is not None else None
    report.closed_reason = reason[:DISMISS_REASON_LIMIT]
    audit.record(
        session,
        user,
        "problem_report.close",
        "problem_report",
        report.id,
        {"status": "open"},
        {"status": "closed", "closed_reason": report.closed_reason},
    )
