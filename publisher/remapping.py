"""Re-map stored entries after the council edits its topic mapping file.

A crawl maps an entry when the entry is new or has changed; an entry that stays the same
keeps the topics it was given. After the mapping file changes, ``remap_entries`` works
the topics out again from what each entry already holds (name, description, taxonomy
terms, ages, postcodes), with no crawl. It writes no change log rows: a new mapping is
not news for families, and past changes keep the topics they had when they happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import Entry, Source
from publisher.topics import Mapping, topics_of

TOPIC_FIELDS = ("age_bands", "needs", "categories", "localities")


@dataclass
class Remapped:
    entry_id: str
    source: str
    name: str
    before: dict[str, list[str]]
    after: dict[str, list[str]]


@dataclass
class RemapResult:
    checked: int = 0
    changed: list[Remapped] = field(default_factory=list)


def remap_entries(
    session: Session,
    mapping: Mapping,
    *,
    source_name: str | None = None,
    apply: bool = True,
) -> RemapResult:
    """Work out every entry's topics again with ``mapping``; with ``apply`` false, only
    say what would change. The caller commits."""
    query = select(Entry, Source.name).join(Source, Source.id == Entry.source_id)
    if source_name is not None:
        query = query.where(Source.name == source_name)
    result = RemapResult()
    for entry, src in session.execute(query.order_by(Entry.id)).yield_per(500):
        result.checked += 1
        topics = topics_of(mapping, entry)
        before = {f: list(getattr(entry, f) or []) for f in TOPIC_FIELDS}
        after = {f: list(getattr(topics, f)) for f in TOPIC_FIELDS}
        if before == after:
            continue
        result.changed.append(Remapped(entry.entry_id, src, entry.name, before, after))
        if apply:
            for name, values in after.items():
                setattr(entry, name, values)
    return result
