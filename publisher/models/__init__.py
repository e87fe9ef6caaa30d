"""Typed SQLAlchemy models, one module per aggregate.

Importing this package registers every table on ``Base.metadata`` (Alembic and the
test fixtures rely on that).
"""

from publisher.models.changes import Change, ChangeKind
from publisher.models.editions import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionChange,
    EditionStatus,
    EditionVariant,
)
from publisher.models.entries import Entry, QuarantinedRecord
from publisher.models.feeds import FeedDocument
from publisher.models.sources import Crawl, CrawlStatus, Source, SourceKind
from publisher.models.subscribers import (
    ConsentRecord,
    ConsentSource,
    EmailFormat,
    EndReason,
    Frequency,
    Subscriber,
    SubscriberStatus,
    Suppression,
)

__all__ = [
    "Change",
    "ChangeKind",
    "ConsentRecord",
    "ConsentSource",
    "Crawl",
    "CrawlStatus",
    "Delivery",
    "DeliveryStatus",
    "Edition",
    "EditionChange",
    "EditionStatus",
    "EditionVariant",
    "EmailFormat",
    "EndReason",
    "Entry",
    "Frequency",
    "FeedDocument",
    "QuarantinedRecord",
    "Source",
    "SourceKind",
    "Subscriber",
    "SubscriberStatus",
    "Suppression",
]
