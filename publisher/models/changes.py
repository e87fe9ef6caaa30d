"""The change log: an append-only list of what happened to entries.

Newsletters, feeds and social posts are all built from these rows. Each row carries a
``snapshot`` of the entry as it stood after the change, so that consumers never need
the entry's later state to describe what happened.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, JSONType, UTCDateTime, utcnow
from publisher.models.enums import value_enum


class ChangeKind(enum.Enum):
    ADDED = "added"
    UPDATED = "updated"
    REMOVED = "removed"
    REOPENED = "reopened"
    BECAME_STALE = "became_stale"


class Change(Base):
    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_occurred", "occurred_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    entry_pk: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[str] = mapped_column(String(255))
    crawl_id: Mapped[int | None] = mapped_column(ForeignKey("crawls.id", ondelete="SET NULL"))
    kind: Mapped[ChangeKind] = mapped_column(value_enum(ChangeKind, 20), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    name: Mapped[str] = mapped_column(Text)
    changed_fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # {field: {"old": ..., "new": ...}} for short fields; long ones list the field only.
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # False when an update touched only bookkeeping (such as the assured date): worth
    # logging, not worth telling families about.
    notable: Mapped[bool] = mapped_column(Boolean, default=True)
    # The entry after the change: name, summary, url, status, topics, stale, paid, ...
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
