"""Directories we crawl, and the record of each crawl."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.db import Base, JSONType, UTCDateTime, utcnow
from publisher.models.enums import value_enum


class SourceKind(enum.Enum):
    ORUK_API = "oruk_api"
    FILE = "file"

    @property
    def label(self) -> str:
        """What the console calls it."""
        return "Open Referral UK API" if self is SourceKind.ORUK_API else "JSON file"


class CrawlStatus(enum.Enum):
    RUNNING = "running"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    # Complete, but it would have removed more entries at once than the settings allow
    # (CRAWL_MAX_REMOVED_SHARE, CRAWL_MAX_REMOVED): nothing was changed; an officer
    # confirms the removals or lets the next crawl decide.
    HELD = "held"


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    location: Mapped[str] = mapped_column(Text)
    kind: Mapped[SourceKind] = mapped_column(value_enum(SourceKind))
    # "1" or "3" once known; detected again on every crawl, since platforms upgrade.
    oruk_version: Mapped[str | None] = mapped_column(String(8))
    # The service's page on the council's Local Offer site, with {id} for the entry id;
    # feeds, emails and posts link there rather than to the provider's own site.
    page_url_template: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set by the first complete crawl: until then we only record, never announce.
    baseline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A lease, taken with one conditional UPDATE, so that two crawls of one source
    # never overlap, whichever process or database starts them.
    lock_token: Mapped[str | None] = mapped_column(String(64))
    # Page number -> SHA-256 of the page's bytes at the last complete crawl. A page that
    # comes back byte for byte lets the next crawl skip hashing its records one by one.
    page_fingerprints: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    lock_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Who holds the lease ("celery on host, process 123"), to tell whoever is waiting.
    lock_holder: Mapped[str | None] = mapped_column(String(200))
    # An officer confirmed that the next crawl may remove up to this many entries at
    # once (after a crawl was held); cleared by the crawl that uses it.
    removals_confirmed: Mapped[int | None] = mapped_column(Integer)

    crawls: Mapped[list[Crawl]] = relationship(back_populates="source", order_by="Crawl.id")


class Crawl(Base):
    __tablename__ = "crawls"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[CrawlStatus] = mapped_column(
        value_enum(CrawlStatus), default=CrawlStatus.RUNNING
    )
    error: Mapped[str | None] = mapped_column(Text)
    # added, updated, removed, reopened, became_stale, unchanged, quarantined, seen
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    requests_made: Mapped[int] = mapped_column(Integer, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)

    source: Mapped[Source] = relationship(back_populates="crawls")

    @property
    def complete(self) -> bool:
        return self.status is CrawlStatus.COMPLETE
