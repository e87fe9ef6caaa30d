"""Summaries the open-data pages read, kept up to date as things happen.

Pages never scan the change log, the entries or the subscribers per request: they read
these tables, which ``publisher.insight.upkeep`` brings up to date after each crawl,
edition and sign-up (and ``publisher insight rebuild`` makes again from scratch).

- ``InsightChange``: the change log as families read it (published changes only: no
  stale entries, no re-checks), one row per change with its title, summary and link;
- ``InsightChangeTopic``: one row per (change, topic), so that any filter walks an index
  in date order ("age:16-25", "need:...", "category:...", "locality:...", "kind:added");
  each row carries its change's topics as a bit mask (``InsightTagBit``), so a filter of
  several topics walks the rarest one and tests the rest inside the index;
- ``InsightTagBit``: the bit each topic has in those masks, given once and never changed;
- ``InsightCount``: counts per (metric, period, key), e.g. ("changes", "2026-11",
  "added"), ("signups", "2026-W48", ""), ("feed_requests", "2026-12-02", "conditional");
- ``InsightSnapshot``: counts as they stood on a day, e.g. ("freshness", "checked"),
  ("subscribers_frequency", "weekly"), ("coverage_need_age", "sensory-physical|5-11");
- ``InsightEdition``: each finished edition's sent and failed counts;
- ``InsightState``: watermarks (the newest change id already summarised).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, JSONType, UTCDateTime

TagsType = JSON().with_variant(ARRAY(String(120)), "postgresql")


class InsightChange(Base):
    __tablename__ = "insight_changes"
    __table_args__ = (
        Index("ix_insight_changes_occurred", "occurred_at", "change_id"),
        Index(
            "ix_insight_changes_tags",
            "tags",
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),  # SQLite has no GIN (see the migration)
    )

    change_id: Mapped[int] = mapped_column(
        ForeignKey("changes.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(255))
    entry_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text)
    # {"age_bands": [...], "needs": [...], "categories": [...], "localities": [...]}
    topics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The same as InsightChangeTopic's rows ("age:0-5", "kind:added", ...). On PostgreSQL a
    # text[] with a GIN index: a filter of several topics is one containment test, which
    # the planner answers from the GIN index when the mix is rare and by walking dates
    # when it is common. SQLite walks InsightChangeTopic instead.
    tags: Mapped[list[str]] = mapped_column(TagsType, default=list)


class InsightChangeTopic(Base):
    __tablename__ = "insight_change_topics"
    # The mask is the last column of the walk index, so the walk tests the other topics
    # from the index alone (an index-only scan on PostgreSQL, a covering index on SQLite).
    # The kind walk serves filters that name a kind and other topics: it walks only the
    # changes of that kind with the rarest other topic (a rare kind, walked by itself,
    # reads all its rows when few of them match the rest).
    __table_args__ = (
        Index("ix_insight_change_topics_walk", "topic", "occurred_at", "change_id", "mask"),
        Index(
            "ix_insight_change_topics_kind_walk",
            "topic",
            "kind",
            "occurred_at",
            "change_id",
            "mask",
        ),
    )

    change_id: Mapped[int] = mapped_column(
        ForeignKey("insight_changes.change_id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    topic: Mapped[str] = mapped_column(String(120), primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    mask: Mapped[int] = mapped_column(BigInteger, default=0)
    kind: Mapped[str] = mapped_column(String(20), default="", server_default="")


class InsightTagBit(Base):
    """One topic's bit in ``InsightChangeTopic.mask`` (its value, a power of two).

    Given in the order topics are first seen and never reused, so masks already stored
    stay right. Past 63 topics (``publisher.insight.tagbits.MASK_BITS``) a topic gets no
    bit, and filters on it test its own index rows instead (slower, still right).
    """

    __tablename__ = "insight_tag_bits"

    tag: Mapped[str] = mapped_column(String(120), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)

    @property
    def value(self) -> int:
        return 1 << self.position


class InsightBuilt(Base):
    """A page built from the summaries, kept for the generation it was built from, so
    that every process answers it with one read until the summaries change."""

    __tablename__ = "insight_built"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    day: Mapped[dt.date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)


class InsightCount(Base):
    __tablename__ = "insight_counts"

    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class InsightSnapshot(Base):
    __tablename__ = "insight_snapshots"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class InsightEdition(Base):
    __tablename__ = "insight_editions"

    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    frequency: Mapped[str] = mapped_column(String(16))
    finished_on: Mapped[dt.date] = mapped_column(Date, index=True)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class InsightState(Base):
    __tablename__ = "insight_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class InsightEntry(Base):
    """What one entry adds to the coverage and freshness counts, so that a crawl
    changing 100 entries adjusts the counts by 100 entries' worth (``insight.coverage``).

    ``present_keys`` count while the entry is present; ``checked_keys`` while it is also
    checked (assured on or after ``checked_until`` minus 12 months): ``counted`` says
    whether they are in the counts now, so the daily aging takes them out once.
    """

    __tablename__ = "insight_entries"
    __table_args__ = (Index("ix_insight_entries_aging", "counted", "checked_until"),)

    entry_pk: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    present_keys: Mapped[list[str]] = mapped_column(JSONType, default=list)
    checked_keys: Mapped[list[str]] = mapped_column(JSONType, default=list)
    checked_until: Mapped[dt.date | None] = mapped_column(Date)
    counted: Mapped[bool] = mapped_column(Boolean, default=False)
