""" "Follow this service": one service's changes, in the same subscriber record and the
same editions as topic news.

A follow is the item key ``<source name>:<entry id>`` on ``Subscriber.follows``
(matching reads it: publisher.subscriptions.matching). Someone who follows from a service
page and has no subscription yet gets ``topic_news = False``: only what they follow. The
link is ``/follow/<source>/<entry id>``, printable on the council's service pages.
"""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.config import get_settings
from publisher.models import Entry, Source

MAX_FOLLOWS = 50


def follow_key(source: str, entry_id: str) -> str:
    return f"{source}:{entry_id}"


def follow_url(source: object, entry_id: str) -> str:
    if not source or not entry_id:
        return ""
    base = get_settings().public_base_url
    return f"{base}/follow/{quote(str(source), safe='')}/{quote(entry_id, safe='')}"


def find_entry(session: Session, source: str, entry_id: str) -> Entry | None:
    """The entry a follow link names, if it is in the Local Offer now (present)."""
    if len(source) > 200 or len(entry_id) > 255:
        return None
    return session.scalars(
        select(Entry)
        .join(Source, Source.id == Entry.source_id)
        .where(Source.name == source, Entry.entry_id == entry_id, Entry.present.is_(True))
    ).first()
