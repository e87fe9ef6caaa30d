"""Figures about the freshness loop for the stale report and the public home page."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from publisher.config import Settings, get_settings
from publisher.db import utcnow
from publisher.models import (
    Entry,
    MailKind,
    MailStatus,
    ReplyKind,
    Review,
    ReviewMail,
    ReviewStatus,
    ReviewSuppression,
)
from publisher.uk_time import LONDON

ANSWERS = (ReplyKind.STILL_CORRECT, ReplyKind.NEEDS_CHANGE, ReplyKind.CLOSED, ReplyKind.STOP)


@dataclass(frozen=True)
class ReviewFigures:
    requests_sent: int
    reminders_sent: int
    replies: dict[ReplyKind, int]
    median_days_to_reply: float | None
    open_reviews: int


def figures(session: Session) -> ReviewFigures:
    sent = dict(
        session.execute(
            select(ReviewMail.kind, func.count())
            .where(ReviewMail.status == MailStatus.SENT)
            .group_by(ReviewMail.kind)
        )
        .tuples()
        .all()
    )
    replies = dict(
        session.execute(
            select(Review.reply, func.count())
            .where(Review.reply != ReplyKind.NONE)
            .group_by(Review.reply)
        )
        .tuples()
        .all()
    )
    days = [
        (replied - first).total_seconds() / 86400
        for replied, first in session.execute(
            select(Review.replied_at, Review.first_sent_at).where(
                Review.reply.in_(ANSWERS),
                Review.replied_at.is_not(None),
                Review.first_sent_at.is_not(None),
            )
        )
    ]
    open_count = session.scalar(
        select(func.count()).select_from(Review).where(Review.status == ReviewStatus.OPEN)
    )
    return ReviewFigures(
        requests_sent=int(sent.get(MailKind.REQUEST, 0)),
        reminders_sent=int(sent.get(MailKind.REMINDER_1, 0) + sent.get(MailKind.REMINDER_2, 0)),
        replies={
            kind: int(replies.get(kind, 0)) for kind in ReplyKind if kind is not ReplyKind.NONE
        },
        median_days_to_reply=round(statistics.median(days), 1) if days else None,
        open_reviews=int(open_count or 0),
    )


def suppressed_addresses(session: Session) -> dict[str, str]:
    """address -> why we no longer email it, in words."""
    return {
        address: "Provider asked us to stop emailing"
        if reason == "stop"
        else "Email address bounced: find another"
        for address, reason in session.execute(
            select(ReviewSuppression.address, ReviewSuppression.reason)
        )
    }


def review_states(session: Session) -> dict[int, str]:
    """entry pk -> where its open review stands, in words (the stale report's column)."""
    out: dict[int, str] = {}
    for entry_pk, reply, first_sent, undeliverable in session.execute(
        select(Review.entry_pk, Review.reply, Review.first_sent_at, Review.undeliverable).where(
            Review.status == ReviewStatus.OPEN
        )
    ):
        if undeliverable and reply is ReplyKind.NONE:
            out[entry_pk] = "Email could not be delivered"
        elif reply is ReplyKind.NONE:
            when = first_sent.astimezone(LONDON).strftime("%-d %b %Y") if first_sent else None
            out[entry_pk] = f"Asked on {when}" if when else "Request waiting to be sent"
        else:
            out[entry_pk] = reply.label
    return out


def confirmed_counts(
    session: Session, ends: list[dt.datetime], settings: Settings | None = None
) -> list[int]:
    """For each instant: entries a provider said were still correct within the last
    ``stale_after_days`` (the stale chart's "confirmed by provider" series)."""
    settings = settings or get_settings()
    window = dt.timedelta(days=settings.stale_after_days)
    stamps = [
        (entry_pk, replied)
        for entry_pk, replied in session.execute(
            select(Review.entry_pk, Review.replied_at).where(
                Review.reply == ReplyKind.STILL_CORRECT, Review.replied_at.is_not(None)
            )
        )
    ]
    return [len({pk for pk, at in stamps if end - window < at <= end}) for end in ends]


@dataclass(frozen=True)
class Freshness:
    checked: int
    total: int


def freshness(session: Session, settings: Settings | None = None) -> Freshness:
    """Present services, and how many were checked within ``stale_after_days`` (with
    TRUST_PROVIDER_CONFIRMATIONS, a provider's "still correct" counts as a check)."""
    settings = settings or get_settings()
    total = session.scalar(select(func.count()).select_from(Entry).where(Entry.present)) or 0
    fresh: ColumnElement[bool] = Entry.stale.is_(False)
    if settings.trust_provider_confirmations:
        since = utcnow() - dt.timedelta(days=settings.stale_after_days)
        confirmed = select(Review.entry_pk).where(
            Review.reply == ReplyKind.STILL_CORRECT, Review.replied_at >= since
        )
        fresh = or_(fresh, Entry.id.in_(confirmed))
    checked = (
        session.scalar(select(func.count()).select_from(Entry).where(and_(Entry.present, fresh)))
        or 0
    )
    return Freshness(checked=int(checked), total=int(total))
