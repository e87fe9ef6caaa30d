"""Subscribers, what they asked for, the consent they gave, and addresses never to mail.

One ``Subscriber`` row per address, with its preferences on the row (one subscription
per address). Statuses only move pending -> active -> ended (a new, confirmed request
may start an ended address again). Newsletters go only to ``status == active`` rows that
still have an address; use ``publisher.subscriptions.matching.matches`` to pick changes.

Erasure keeps the row as an anonymous tombstone (``email`` NULL, preferences cleared,
consent records deleted) so that rows elsewhere that point at a subscriber (such as a
delivery ledger) stay valid; only a ``Suppression`` (sha256 of the address) remains to
say "never mail this address". Unconfirmed requests that expire are deleted outright:
nothing was ever sent to them but the confirmation email.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.db import Base, JSONType, UTCDateTime, utcnow
from publisher.models.enums import value_enum


class SubscriberStatus(enum.Enum):
    PENDING = "pending"  # asked, not yet confirmed: send nothing but the confirmation
    ACTIVE = "active"  # confirmed: receives editions
    ENDED = "ended"  # left, bounced, deleted or expired: send nothing


class EndReason(enum.Enum):
    UNSUBSCRIBED = "unsubscribed"
    # A permanent delivery failure (SMTP 5xx for the recipient, Notify permanent-failure).
    BOUNCED = "bounced"
    DELETED = "deleted"  # the subscriber asked us to delete their data
    EXPIRED = "expired"  # never confirmed


class Frequency(enum.Enum):
    """How often a subscriber hears from us; each has one entry (label, when editions
    close) in ``publisher.newsletters.frequencies``."""

    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class EmailFormat(enum.Enum):
    HTML = "html"  # multipart: plain text and HTML
    TEXT = "text"  # plain text only


class ConsentSource(enum.Enum):
    WEB_FORM = "web_form"
    JSON_API = "json_api"
    CSV_IMPORT = "csv_import"


class Subscriber(Base):
    __tablename__ = "subscribers"
    __table_args__ = (Index("ix_subscribers_status_frequency", "status", "frequency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised (email-validator, then lower-cased); NULL once erased.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    status: Mapped[SubscriberStatus] = mapped_column(
        value_enum(SubscriberStatus, 16), default=SubscriberStatus.PENDING
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The latest subscribe request (unconfirmed requests expire 7 days after it).
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[EndReason | None] = mapped_column(value_enum(EndReason, 16))
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Part of every manage/unsubscribe token: bumping it invalidates all links sent so far.
    token_version: Mapped[int] = mapped_column(Integer, default=1)

    # Preferences: lists of slugs from publisher.topics; an empty list means "everything".
    age_bands: Mapped[list[str]] = mapped_column(JSONType, default=list)
    needs: Mapped[list[str]] = mapped_column(JSONType, default=list)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    localities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    frequency: Mapped[Frequency] = mapped_column(
        value_enum(Frequency, 16), default=Frequency.WEEKLY
    )
    format: Mapped[EmailFormat] = mapped_column(
        value_enum(EmailFormat, 8), default=EmailFormat.HTML
    )
    # A separate opt-in: items about paid or third-party services can be direct marketing (PECR).
    paid_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    # --- voice (issue 14): "Follow this service". Item keys ("<source>:<entry id>") of
    # single services whose changes this person gets; ``topic_news`` False means they
    # asked only for those (a follow from a service page), not for topic news too.
    follows: Mapped[list[str]] = mapped_column(JSONType, default=list)
    topic_news: Mapped[bool] = mapped_column(Boolean, default=True)
    # "You said, we did" answers in their editions, if they asked for them.
    you_said_we_did: Mapped[bool] = mapped_column(Boolean, default=False)
    # --- end voice

    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="subscriber",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ConsentRecord.id",
    )

    @property
    def is_active(self) -> bool:
        return self.status is SubscriberStatus.ACTIVE and self.email is not None


class ConsentRecord(Base):
    """One request to subscribe (or change preferences), with what the person was shown."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    wording_version: Mapped[str] = mapped_column(String(32))
    wording_sha256: Mapped[str] = mapped_column(String(64))
    wording: Mapped[str] = mapped_column(Text)
    source: Mapped[ConsentSource] = mapped_column(value_enum(ConsentSource, 16))
    # What they agreed to at the time.
    preferences: Mapped[dict[str, object]] = mapped_column(JSONType, default=dict)
    paid_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Minimal client information: the network the request came from (IPv4 /24, IPv6 /48),
    # never the full address; NULL for imports.
    client_network: Mapped[str | None] = mapped_column(String(64))

    subscriber: Mapped[Subscriber] = relationship(back_populates="consents")


class Suppression(Base):
    """An address we must never mail, kept only as the sha256 of its normalised form."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[EndReason] = mapped_column(value_enum(EndReason, 16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
