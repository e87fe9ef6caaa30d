"""Topics as bits, so a filter of several topics is tested inside one index.

Every (change, topic) row of ``insight_change_topics`` carries its change's topics as a
mask. A page for "age 16-25 and sensory needs" walks the rarer topic's index in date
order and keeps the rows whose mask has the other topic's bit: no lookup per row. Bits
are given once, in the order topics are first seen, and never change; topics past the
63rd have none and are tested by their own rows (``publisher.insight.selection``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from publisher.models import InsightTagBit

MASK_BITS = 63  # a signed 64-bit integer's bits, the same on SQLite and PostgreSQL


def values(session: Session, tags: Iterable[str]) -> dict[str, int]:
    """The bit value of each of these topics that has one."""
    wanted = list(dict.fromkeys(tags))
    if not wanted:
        return {}
    rows = session.execute(
        select(InsightTagBit.tag, InsightTagBit.position).where(InsightTagBit.tag.in_(wanted))
    )
    return {tag: 1 << position for tag, position in rows.tuples()}


def assign(session: Session, tags: Iterable[str]) -> dict[str, int]:
    """Bits for these topics, giving the next free ones to topics not seen before.

    Two refreshes at once could pick the same position: the unique position refuses
    the second, whose task retries (as for its change rows)."""
    wanted = list(dict.fromkeys(tags))
    known = values(session, wanted)
    new = [tag for tag in wanted if tag not in known]
    if new:
        used = session.scalar(select(func.count()).select_from(InsightTagBit)) or 0
        given = {tag: used + n for n, tag in enumerate(new) if used + n < MASK_BITS}
        if given:
            session.execute(
                insert(InsightTagBit), [{"tag": t, "position": p} for t, p in given.items()]
            )
            known.update({tag: 1 << position for tag, position in given.items()})
    return known


def mask_of(bits: dict[str, int], tags: Iterable[str]) -> int:
    mask = 0
    for tag in tags:
        mask |= bits.get(tag, 0)
    return mask
