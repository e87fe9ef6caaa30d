"""Bulletins: news the council writes itself (a consultation, a new policy), beside the
news the change log makes.

A bulletin moves draft -> approved (or withdrawn). An approved bulletin goes at the top of
the next edition of every frequency, once: ``BulletinEdition`` is unique on (bulletin,
frequency), written in the same transaction as the edition that carries it. An urgent
bulletin goes at once as an email of its own instead, through its own ledger
(``BulletinDelivery``, unique on bulletin and subscriber), so nobody gets it twice.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, JSONType, UTCDateTime, utcnow
from publisher.models.enums import value_enum
from publisher.models.subscribers import Frequency


class BulletinState(enum.Enum):
    DRAFT = "draft"
    APPROVED = "approved"
    WITHDRAWN = "withdrawn"


class Bulletin(Base):
    __tablename__ = "bulletins"
    __table_args__ = (Index("ix_bulletins_state_approved", "state", "approved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[BulletinState] = mapped_column(
        value_enum(BulletinState, 16), default=BulletinState.DRAFT
    )
    title: Mapped[str] = mapped_column(String(200))
    # What the officer typed (short paragraphs, "- " lists, links), kept for editing.
    body_source: Mapped[str] = mapped_column(Text, default="")
    # The same body made safe (nh3, a short list of tags), and as plain text.
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(Text)
    # {"age_bands": [...], "needs": [...], "categories": [...], "localities": [...]};
    # every list empty means everyone.
    audience: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Urgent sending: when its ledger was written (once), and how many it matched.
    urgent_planned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    urgent_recipients: Mapped[int] = mapped_column(Integer, default=0)


class BulletinEdition(Base):
    """Which edition of a frequency carried a bulletin: once per frequency."""

    __tablename__ = "bulletin_editions"
    __table_args__ = (
        UniqueConstraint("bulletin_id", "frequency", name="uq_bulletin_editions_frequency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    frequency: Mapped[Frequency] = mapped_column(value_enum(Frequency, 16))
    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), index=True
    )


class BulletinDeliveryStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # the subscriber left before it went


class BulletinDelivery(Base):
    """The urgent-bulletin ledger: one row per person, claimed before sending and marked
    sent at hand-over (as publisher.newsletters.sending does for editions)."""

    __tablename__ = "bulletin_deliveries"
    __table_args__ = (
        UniqueConstraint("bulletin_id", "subscriber_id", name="uq_bulletin_deliveries_subscriber"),
        Index("ix_bulletin_deliveries_status", "bulletin_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[BulletinDeliveryStatus] = mapped_column(
        value_enum(BulletinDeliveryStatus, 16), default=BulletinDeliveryStatus.PENDING
    )
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
