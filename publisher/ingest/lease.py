"""One crawl at a time per source: a short lease, renewed while the crawl progresses.

The lease is taken with one conditional UPDATE, which succeeds for exactly one caller on
both databases. It lasts ``CRAWL_LOCK_SECONDS`` (60 by default) and the crawl renews it
between requests (the HTTP client's heartbeat), so a crawler that dies (SIGKILL, a lost
machine) leaves its source free within about a minute, while a slow but live crawl keeps
it. Every request has an overall deadline shorter than the lease, so a renewal is never
more than one request away. The last renewal happens inside the transaction that applies
the crawl: a crawl that lost its lease (another took over after it stalled) writes
nothing. A crawl row left ``running`` by a dead crawler is closed as failed by the next
crawl of its source, or by the sweeper.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from publisher.db import session_scope, utcnow
from publisher.models import Crawl, CrawlStatus, Source

ABANDONED = "the crawl stopped before finishing: the process running it ended or stalled"


class CrawlBusy(Exception):
    """Another crawl of this source holds the lease."""

    def __init__(self, holder: str | None, until: dt.datetime | None) -> None:
        who = holder or "another process"
        when = f" until {until:%Y-%m-%d %H:%M:%S} UTC" if until else ""
        super().__init__(f"a crawl is already running: {who} holds it{when}")
        self.holder = holder
        self.until = until


class LeaseLost(Exception):
    """Another crawl took the source over after this one stopped renewing its lease."""


def holder_name() -> str:
    """Who we are, for ``publisher ingest`` to tell someone waiting for the lease."""
    path = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    # `python -m celery` and `python -m publisher` run a package's __main__.py.
    program = path.parent.name if path.name == "__main__.py" else path.name
    return f"{program} on {socket.gethostname()}, process {os.getpid()}"[:200]


@dataclass
class Lease:
    source_id: int
    token: str
    seconds: int
    renewed_at: float = field(default_factory=time.monotonic)

    @property
    def renew_every(self) -> float:
        return min(self.seconds / 4, 10.0)

    def heartbeat(self) -> None:
        """Renew if a quarter of the lease (at most 10 s) has gone since the last time."""
        if time.monotonic() - self.renewed_at >= self.renew_every:
            with session_scope() as session:
                self.renew(session)

    def renew(self, session: Session) -> None:
        """Extend the lease in ``session``'s transaction; LeaseLost if it is not ours."""
        result = session.execute(
            update(Source)
            .where(Source.id == self.source_id, Source.lock_token == self.token)
            .values(lock_expires_at=utcnow() + dt.timedelta(seconds=self.seconds))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise LeaseLost("another crawl took over this source while this one was stalled")
        self.renewed_at = time.monotonic()


def take_lease(source_id: int, seconds: int, holder: str | None = None) -> Lease:
    """One conditional UPDATE; CrawlBusy (saying who holds it, and until when) if taken."""
    token = secrets.token_hex(16)
    now = utcnow()
    with session_scope() as session:
        result = session.execute(
            update(Source)
            .where(
                Source.id == source_id,
                or_(Source.lock_token.is_(None), Source.lock_expires_at < now),
            )
            .values(
                lock_token=token,
                lock_expires_at=now + dt.timedelta(seconds=seconds),
                lock_holder=holder or holder_name(),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            row = session.execute(
                select(Source.lock_holder, Source.lock_expires_at).where(Source.id == source_id)
            ).one_or_none()
            raise CrawlBusy(row[0] if row else None, row[1] if row else None)
    return Lease(source_id, token, seconds)


def release_lease(session: Session, source_id: int, token: str) -> None:
    session.execute(
        update(Source)
        .where(Source.id == source_id, Source.lock_token == token)
        .values(lock_token=None, lock_expires_at=None, lock_holder=None)
        .execution_options(synchronize_session=False)
    )


def close_abandoned(session: Session, source_id: int | None = None) -> int:
    """Close ``running`` crawl rows whose source has no live lease: their crawler died.
    With ``source_id`` (the caller holds that source's lease): that source's rows."""
    now = utcnow()
    if source_id is not None:
        condition = Crawl.source_id == source_id
    else:
        unleased = select(Source.id).where(
            or_(Source.lock_token.is_(None), Source.lock_expires_at < now)
        )
        condition = Crawl.source_id.in_(unleased)
    result = session.execute(
        update(Crawl)
        .where(and_(Crawl.status == CrawlStatus.RUNNING, condition))
        .values(status=CrawlStatus.INCOMPLETE, error=ABANDONED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
