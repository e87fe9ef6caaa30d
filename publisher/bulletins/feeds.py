"""Approved bulletins as feed items of their own, in every feed whose topic they match.

A bulletin that names no value for a choice (say, no age band) is for all of them, so it
appears in every one-topic feed of that choice. Feed documents are rebuilt from the
change log only when a change arrives; approving or withdrawing a bulletin therefore
clears the stored documents' signature (``mark_feeds_stale``), which makes the next
rebuild render each of them again (publisher.feeds.store.rebuild_all).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from publisher.bulletins.body import public_url, summary
from publisher.config import Settings
from publisher.feeds.items import FeedItem, plain_name
from publisher.models import Bulletin, BulletinState, FeedDocument
from publisher.subscriptions.matching import DIMENSIONS
from publisher.subscriptions.preferences import vocabulary

MAX_BULLETINS = 200


def feed_snapshot(audience: Mapping[str, Any]) -> dict[str, list[str]]:
    vocab = vocabulary()
    return {d: list(audience.get(d) or []) or list(vocab[d]) for d in DIMENSIONS}


def bulletin_items(session: Session, settings: Settings) -> list[tuple[dict[str, Any], FeedItem]]:
    """(snapshot for topic matching, item) for each approved bulletin, newest first."""
    rows = session.scalars(
        select(Bulletin)
        .where(Bulletin.state == BulletinState.APPROVED, Bulletin.approved_at.is_not(None))
        .order_by(Bulletin.approved_at.desc(), Bulletin.id.desc())
        .limit(MAX_BULLETINS)
    ).all()
    out = []
    for b in rows:
        assert b.approved_at is not None
        out.append(
            (
                feed_snapshot(b.audience or {}),
                FeedItem(
                    change_id=0,
                    id=f"tag:{settings.feed_id_authority},2026:bulletin-{b.id}",
                    title=f"From the Local Offer team: {plain_name(b.title)}",
                    summary=summary(b.body_text, 400),
                    link=b.link or public_url(b.id),
                    categories=(("local-offer-team", "From the Local Offer team"),),
                    published=b.approved_at,
                    updated=b.approved_at,
                ),
            )
        )
    return out


def mark_feeds_stale(session: Session) -> None:
    """Make the next feed rebuild render every stored document again (caller commits,
    then queues publisher.feeds.rebuild_feeds)."""
    session.execute(update(FeedDocument).values(signature=""))
