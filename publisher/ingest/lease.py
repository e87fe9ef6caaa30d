"""One crawl at a time per source: a lease taken with one conditional UPDATE."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from publisher.db import session_scope, utcnow
from publisher.models import Source


class CrawlBusy(Exception):
    """Another crawl of this source holds the lease."""


def take_lease(source_id: int, seconds: int) -> str:
    """One conditional UPDATE: it succeeds for exactly one caller on both databases."""
    token = secrets.token_hex(16)
    now = utcnow()
    with session_scope() as session:
        result = session.execute(
            update(Source)
            .where(
                Source.id == source_id,
                or_(Source.lock_token.is_(None), Source.lock_expires_at < now),
            )
            .values(lock_token=token, lock_expires_at=now + dt.timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise CrawlBusy("a crawl of this source is already running")
    return token


def release_lease(session: Session, source_id: int, token: str) -> None:
    session.execute(
        update(Source)
        .where(Source.id == source_id, Source.lock_token == token)
        .values(lock_token=None, lock_expires_at=None)
        .execution_options(synchronize_session=False)
    )
