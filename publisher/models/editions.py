"""Editions (one newsletter issue per frequency and window) and the delivery ledger.

An edition covers the changes whose ``occurred_at`` falls before its ``window_end``
and that no earlier edition of the same frequency took: ``EditionChange`` is unique on
(frequency, change_id), so a change can go out in only one edition of each frequency,
and a change committed late (after the edition it belonged to was built) goes in the
next one rather than being lost.

``Delivery`` is the ledger, unique on (edition, subscriber): nobody gets one edition
twice. Its status moves pending -> sending (claimed by a worker) -> sent | failed |
unknown, or back to pending when a claim expires before the message was handed over.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, JSONType, UTCDateTime, utcnow
from publisher.models.enums import value_enum
from publisher.models.subscribers import Frequency


class EditionStatus(enum.Enum):
    # Items and changes are taken; deliveries are being written, one committed chunk of
    # subscribers at a time (a build that died is resumed after ``built_through``).
    BUILDING = "building"
    SENDING = "sending"  # built: deliveries are in the ledger, some not yet sent
    DONE = "done"  # every delivery is sent or failed


class DeliveryStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # the subscriber left between building and sending
    # The final "." was written but no reply came: the server may have taken it. Never
    # sent again (a duplicate is worse than one missed edition); counted in the list.
    UNKNOWN = "unknown"


class Edition(Base):
    __tablename__ = "editions"
    __table_args__ = (UniqueConstraint("frequency", "window_end", name="uq_editions_window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    frequency: Mapped[Frequency] = mapped_column(value_enum(Frequency, 16))
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[EditionStatus] = mapped_column(
        value_enum(EditionStatus, 16), default=EditionStatus.SENDING
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When send tasks were last handed to the queue (the sweeper re-queues after a while).
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The news in this edition, collapsed per entry, in display order; no personal data.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    change_count: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # While building: deliveries are written for subscribers up to this id.
    built_through: Mapped[int | None] = mapped_column(Integer)
    # While building: renewed by each committed chunk; a stale one is resumed.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class EditionChange(Base):
    """Which changes an edition took; a change goes in one edition per frequency."""

    __tablename__ = "edition_changes"
    __table_args__ = (
        UniqueConstraint("frequency", "change_id", name="uq_edition_changes_frequency_change"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), index=True
    )
    frequency: Mapped[Frequency] = mapped_column(value_enum(Frequency, 16))
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"))


class EditionVariant(Base):
    """One distinct content of an edition: which of its items, whether the 16-25
    section is split out, and whether services that name no need say why they are there
    (for readers who chose a need). Subscribers who share a variant share a rendered body."""

    __tablename__ = "edition_variants"
    __table_args__ = (UniqueConstraint("edition_id", "number", name="uq_edition_variants_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    item_indexes: Mapped[list[int]] = mapped_column(JSONType, default=list)
    adulthood_section: Mapped[bool] = mapped_column(default=False)
    # "No need is listed for this service, so we include it for everyone." beside such
    # items: set when the readers chose a need and some item names none.
    needs_note: Mapped[bool] = mapped_column(default=False)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id", name="uq_deliveries_edition_subscriber"),
        Index("ix_deliveries_edition_status", "edition_id", "status"),
        Index("ix_deliveries_claim", "claim_token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    variant: Mapped[int] = mapped_column(Integer)
    status: Mapped[DeliveryStatus] = mapped_column(
        value_enum(DeliveryStatus, 16), default=DeliveryStatus.PENDING
    )
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
