"""Typed SQLAlchemy models, one module per aggregate.

Importing this package registers every table on ``Base.metadata`` (Alembic and the
test fixtures rely on that).
"""

from publisher.models.audit import AuditEvent
from publisher.models.bulletins import (
    Bulletin,
    BulletinDelivery,
    BulletinDeliveryStatus,
    BulletinEdition,
    BulletinState,
)
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
from publisher.models.feedback import Feedback, FeedbackEdition, FeedbackState
from publisher.models.feeds import FeedDocument
from publisher.models.insight import (
    InsightBuilt,
    InsightChange,
    InsightChangeTopic,
    InsightCount,
    InsightEdition,
    InsightEntry,
    InsightSnapshot,
    InsightState,
    InsightTagBit,
)
from publisher.models.logins import LoginAttempt
from publisher.models.post_images import PostImage  # ux (issue 13.6)
from publisher.models.reviews import (
    MailKind,
    MailStatus,
    ProblemReport,
    ReplyKind,
    Review,
    ReviewMail,
    ReviewStatus,
    ReviewSuppression,
)
from publisher.models.settings import AppSetting
from publisher.models.social import Platform, Post, PostChange, PostState, SocialAccount
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
from publisher.models.users import Role, User

__all__ = [
    "AppSetting",
    "AuditEvent",
    "Bulletin",
    "BulletinDelivery",
    "BulletinDeliveryStatus",
    "BulletinEdition",
    "BulletinState",
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
    "FeedDocument",
    "Feedback",
    "FeedbackEdition",
    "FeedbackState",
    "Frequency",
    "InsightBuilt",
    "InsightChange",
    "InsightChangeTopic",
    "InsightCount",
    "InsightEdition",
    "InsightEntry",
    "InsightSnapshot",
    "InsightState",
    "InsightTagBit",
    "LoginAttempt",
    "MailKind",
    "MailStatus",
    "Platform",
    "Post",
    "PostChange",
    "PostImage",
    "PostState",
    "ProblemReport",
    "QuarantinedRecord",
    "ReplyKind",
    "Review",
    "ReviewMail",
    "ReviewStatus",
    "ReviewSuppression",
    "Role",
    "SocialAccount",
    "Source",
    "SourceKind",
    "Subscriber",
    "SubscriberStatus",
    "Suppression",
    "User",
]
