"""The statements that find a selection's changes: one per shape, built once.

``publisher.insight.selection`` chooses a plan for each selection: every change by
date; PostgreSQL's GIN containment test for a rare mix; or a walk of one topic's index
rows in date order, testing the other topics by the mask kept in the same row (only
one kind's rows, through the kind walk index, when a rare kind is chosen). Building a
SQLAlchemy statement cost more than PostgreSQL took to run it (about 1 ms against
0.3 ms), so each shape is built once with bound parameters and reused; the values
(topics, mask, dates, cursor, limit) go in as parameters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    String,
    bindparam,
    exists,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from publisher.db import UTCDateTime
from publisher.models import InsightChange, InsightChangeTopic

# A page's rows carry these columns, read as plain rows (``row.title``): building ORM
# objects for a page of 20 to 200 read-only rows cost more than reading them.
COLUMNS = (
    InsightChange.change_id,
    InsightChange.occurred_at,
    InsightChange.kind,
    InsightChange.title,
    InsightChange.summary,
    InsightChange.link,
    InsightChange.source,
    InsightChange.entry_id,
    InsightChange.topics,
)
TAGS = ARRAY(String(120))


@dataclass(frozen=True)
class Shape:
    """What a statement looks like, without its values. Parameters: ``driver`` (walk),
    ``kind`` (by_kind), ``want`` (masked), ``other0``... (unbitted), ``tags`` (gin),
    ``since``/``until`` (UTC), ``at``/``id`` (a cursor, unless page is "first"), ``limit``."""

    plan: str  # "all", "gin" or "walk"
    by_kind: bool = False  # walk: only the rows of one kind (the kind walk index)
    masked: bool = False  # walk: test other topics' bits in the walked row
    unbitted: int = 0  # walk: other topics with no bit, each tested by its own row
    since: bool = False
    until: bool = False
    page: str = "first"  # "first", "after" (older than a cursor) or "before" (newer)


@functools.lru_cache(maxsize=512)
def statement(shape: Shape) -> Select[Any]:
    stmt = select(*COLUMNS)
    occurred: Any = InsightChange.occurred_at
    change_id: Any = InsightChange.change_id
    if shape.plan == "gin":
        # PostgreSQL only: the GIN-indexed text[] answers "has all these tags" at once.
        stmt = stmt.where(
            type_coerce(InsightChange.tags, TAGS).contains(bindparam("tags", type_=TAGS))
        )
    elif shape.plan == "walk":
        walk = aliased(InsightChangeTopic, name="walk")
        stmt = stmt.join(walk, walk.change_id == InsightChange.change_id)
        stmt = stmt.where(walk.topic == bindparam("driver", type_=String()))
        occurred, change_id = walk.occurred_at, walk.change_id
        if shape.by_kind:
            stmt = stmt.where(walk.kind == bindparam("kind", type_=String()))
        if shape.masked:
            want = bindparam("want", type_=BigInteger())
            stmt = stmt.where(walk.mask.op("&")(want) == want)
        for n in range(shape.unbitted):
            check = aliased(InsightChangeTopic, name=f"check{n}")
            stmt = stmt.where(
                exists().where(
                    check.change_id == InsightChange.change_id,
                    check.topic == bindparam(f"other{n}", type_=String()),
                )
            )
    if shape.since:
        stmt = stmt.where(occurred >= bindparam("since", type_=UTCDateTime()))
    if shape.until:
        stmt = stmt.where(occurred < bindparam("until", type_=UTCDateTime()))
    # Typed cursor binds: SQLite keeps naive UTC, and UTCDateTime converts on the way in.
    cursor = tuple_(bindparam("at", type_=UTCDateTime()), bindparam("id", type_=Integer()))
    if shape.page == "before":
        stmt = stmt.where(tuple_(occurred, change_id) > cursor)
        stmt = stmt.order_by(occurred.asc(), change_id.asc())
    else:
        if shape.page == "after":
            stmt = stmt.where(tuple_(occurred, change_id) < cursor)
        stmt = stmt.order_by(occurred.desc(), change_id.desc())
    return stmt.limit(bindparam("limit", type_=Integer()))
