"""Families' comments on the Local Offer itself and the council's answers: "You said, we
did" (SEND Regulations 2014, regulations 56 and 57: published at least once a year).

A reporter's contact address is personal data: it is never shown publicly, and it is
deleted ``FEEDBACK_KEEP_DAYS`` (28) after the comment arrived unless an officer marked it
as needed for a reply. Their words are published only if they agreed to that.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, UTCDateTime, utcnow
from publisher.models.enums import value_enum
from publisher.models.subscribers import Frequency


class FeedbackState(enum.Enum):
    NEW = "new"
    ANSWERED = "answered"  # a response is written, not yet public
    PUBLISHED = "published"
    CLOSED = "closed"  # read and dealt with, not for publishing (spam, personal cases)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_state_published", "state", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[FeedbackState] = mapped_column(
        value_enum(FeedbackState, 16), default=FeedbackState.NEW
    )
    # "missing", "wrong", "hard-to-use", "other"
    topic: Mapped[str] = mapped_column(String(32))
    words: Mapped[str] = mapped_column(Text)
    age_band: Mapped[str | None] = mapped_column(String(16))
    need: Mapped[str | None] = mapped_column(String(64))
    consent_to_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_email: Mapped[str | None] = mapped_column(String(320))
    keep_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # What the public page shows as "You said": the reporter's words if they agreed,
    # else an officer's short summary without anything that identifies them.
    you_said: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)  # "We said"
    action: Mapped[str | None] = mapped_column(Text)  # "We did"
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class FeedbackEdition(Base):
    """Which edition of a frequency carried a published answer: once per frequency."""

    __tablename__ = "feedback_editions"
    __table_args__ = (
        UniqueConstraint("feedback_id", "frequency", name="uq_feedback_editions_frequency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    frequency: Mapped[Frequency] = mapped_column(value_enum(Frequency, 16))
    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), index=True
    )
