"""Built feed documents, cached in the database so that requests never build them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, UTCDateTime, utcnow


class FeedDocument(Base):
    """One feed (format + topic filter) as last built from the change log.

    ``built_from_change_id`` is the newest change id the body accounts for: a rebuild
    only looks at changes after it, and a body is rewritten (new ETag, new
    Last-Modified) only when one of those changes belongs in this feed.
    """

    __tablename__ = "feed_documents"

    # "<format>:<canonical query>", e.g. "atom:age=16-25&need=sensory-physical".
    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    format: Mapped[str] = mapped_column(String(8))
    query: Mapped[str] = mapped_column(String(490), default="")
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(80))
    last_modified: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    built_from_change_id: Mapped[int] = mapped_column(Integer, default=0)
    built_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    # What else the bytes depend on (council name, base URL, hub, size, labels, code
    # version): when it changes, the next rebuild rewrites the document.
    signature: Mapped[str] = mapped_column(String(64), default="")
    # Topic combinations are built on request and kept current only while people
    # read them: this is the last day one was read (a day at most once), and a rebuild
    # drops combinations unread for FEED_UNUSED_DAYS. Null for the always-built feeds.
    last_requested_on: Mapped[dt.date | None] = mapped_column(Date)
    # Set when the body changed and the WebSub hub has not yet been told.
    hub_pending: Mapped[bool] = mapped_column(Boolean, default=False)
