"""The current, last-good state of every Local Offer entry, and records we refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, JSONType, UTCDateTime, utcnow


class Entry(Base):
    """One service as last seen in a complete crawl of its source.

    ``record`` keeps the raw record we normalised (the detail record when we fetched
    one), so that a list-level change can be merged without fetching the detail again.
    """

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("source_id", "entry_id", name="uq_entries_source_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[str] = mapped_column(String(255))

    name: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    assured_date: Mapped[dt.date | None] = mapped_column(Date)
    last_modified: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    organisation: Mapped[str | None] = mapped_column(Text)
    addresses: Mapped[list[str]] = mapped_column(JSONType, default=list)
    postcodes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    service_areas: Mapped[list[str]] = mapped_column(JSONType, default=list)
    costs: Mapped[list[str]] = mapped_column(JSONType, default=list)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    taxonomy_terms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # One line (publisher.sources.opening_times); "" when the directory gives none, NULL
    # when not read yet (stored before migration 0620): the next complete crawl fills
    # it from ``record`` without announcing it (publisher.ingest.apply).
    opening_times: Mapped[str | None] = mapped_column(Text)

    # Derived topics, in our vocabulary (publisher.topics).
    age_bands: Mapped[list[str]] = mapped_column(JSONType, default=list)
    needs: Mapped[list[str]] = mapped_column(JSONType, default=list)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    localities: Mapped[list[str]] = mapped_column(JSONType, default=list)

    # Change detection.
    list_stamp: Mapped[str | None] = mapped_column(String(64))
    list_hash: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    # Life cycle. ``present`` is false once the entry is removed (absent twice, or
    # inactive/defunct); ``missing_crawls`` counts consecutive complete crawls without it.
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    missing_crawls: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class QuarantinedRecord(Base):
    """A record a crawl refused, with the reason, until a crawl no longer sees it."""

    __tablename__ = "quarantined_records"
    __table_args__ = (
        UniqueConstraint("source_id", "record_key", "reason", name="uq_quarantine_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    # The record's id when it has one, else "#<position in crawl>".
    record_key: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    crawl_id: Mapped[int | None] = mapped_column(ForeignKey("crawls.id", ondelete="SET NULL"))
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
