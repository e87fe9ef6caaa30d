"""Provider reviews (issue 9): asking providers to re-check their entries, the emails we
sent them (an idempotency ledger), their replies, and addresses that asked us to stop."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, JSONType, UTCDateTime, utcnow
from publisher.models.enums import value_enum


class ReviewStatus(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class ReplyKind(enum.Enum):
    NONE = "none"
    STILL_CORRECT = "still_correct"
    NEEDS_CHANGE = "needs_change"
    CLOSED = "closed"
    NO_REPLY = "no_reply"
    STOP = "stop"

    @property
    def label(self) -> str:
        return {
            "none": "Waiting for a reply",
            "still_correct": "Still correct",
            "needs_change": "Needs changing",
            "closed": "Service has closed",
            "no_reply": "No reply",
            "stop": "Asked us to stop emailing",
        }[self.value]


class MailKind(enum.Enum):
    REQUEST = "request"
    REMINDER_1 = "reminder_1"
    REMINDER_2 = "reminder_2"

    @property
    def is_reminder(self) -> bool:
        return self is not MailKind.REQUEST


class MailStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Review(Base):
    """One round of asking a provider to check one entry, from the first email until the
    reply is dealt with or the directory catches up. At most one open review per entry."""

    __tablename__ = "reviews"
    __table_args__ = (
        # One open review per entry (a partial unique index, on both databases).
        Index(
            "uq_reviews_open_entry",
            "entry_pk",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_reviews_status_address", "status", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_pk: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[str] = mapped_column(String(255))
    # Lower-cased contact address the requests go to; None: the entry has none.
    address: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[ReviewStatus] = mapped_column(
        value_enum(ReviewStatus), default=ReviewStatus.OPEN
    )
    # What the directory said when we asked, so that a later crawl can tell it caught up.
    assured_at_open: Mapped[dt.date | None] = mapped_column(Date)
    hash_at_open: Mapped[str] = mapped_column(String(64), default="")
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    reply: Mapped[ReplyKind] = mapped_column(value_enum(ReplyKind), default=ReplyKind.NONE)
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The address the reply came from: the one the signed link was sent to.
    replied_from: Mapped[str | None] = mapped_column(String(320))
    # needs_change: the provider's values for the fields they changed, and their note.
    reply_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The directory's values for those fields when the provider answered.
    directory_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    reply_note: Mapped[str] = mapped_column(Text, default="")
    # An SMTP 5xx for the address: no more tries; the officer sees it.
    undeliverable: Mapped[str | None] = mapped_column(Text)

    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ReviewMail(Base):
    """The ledger: one row per review and kind of email. The unique key makes planning
    twice harmless; the claim (committed before SMTP) and the "sent" mark made at the
    hand-over make a killed worker harmless (see publisher.reviews.sending)."""

    __tablename__ = "review_mails"
    __table_args__ = (
        UniqueConstraint("review_id", "kind", name="uq_review_mails_review_kind"),
        Index("ix_review_mails_status_address", "status", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[MailKind] = mapped_column(value_enum(MailKind))
    status: Mapped[MailStatus] = mapped_column(value_enum(MailStatus), default=MailStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(64), index=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class ReviewSuppression(Base):
    """An address we no longer send review requests to: the provider asked us to stop,
    or the address bounced."""

    __tablename__ = "review_suppressions"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))  # "stop" or "undeliverable"
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProblemReport(Base):
    """A parent's "Is this wrong? Tell us" report about one entry."""

    __tablename__ = "problem_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_pk: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    what: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text, default="")
    # Optional; erased 28 days after the report (publisher.reviews.reports.erase_old).
    reporter_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[ReviewStatus] = mapped_column(
        value_enum(ReviewStatus), default=ReviewStatus.OPEN
    )
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
