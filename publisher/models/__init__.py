"""Typed SQLAlchemy models, one module per aggregate.

Importing this package registers every table on ``Base.metadata`` (Alembic and the
test fixtures rely on that).
"""

from publisher.models.changes import Change, ChangeKind
from publisher.models.entries import Entry, QuarantinedRecord
from publisher.models.feeds import FeedDocument
from publisher.models.sources import Crawl, CrawlStatus, Source, SourceKind

__all__ = [
    "Change",
    "ChangeKind",
    "Crawl",
    "CrawlStatus",
    "Entry",
    "FeedDocument",
    "QuarantinedRecord",
    "Source",
    "SourceKind",
]
