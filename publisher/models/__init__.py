"""Typed SQLAlchemy models, one module per aggregate.

Importing this package registers every table on ``Base.metadata`` (Alembic and the
test fixtures rely on that).
"""

from publisher.models.audit import AuditEvent
from publisher.models.changes import Change, ChangeKind
from publisher.models.entries import Entry, QuarantinedRecord
from publisher.models.logins import LoginAttempt
from publisher.models.settings import AppSetting
from publisher.models.social import Platform, Post, PostChange, PostState, SocialAccount
from publisher.models.sources import Crawl, CrawlStatus, Source, SourceKind
from publisher.models.users import Role, User

__all__ = [
    "AppSetting",
    "AuditEvent",
    "Change",
    "ChangeKind",
    "Crawl",
    "CrawlStatus",
    "Entry",
    "LoginAttempt",
    "Platform",
    "Post",
    "PostChange",
    "PostState",
    "QuarantinedRecord",
    "Role",
    "SocialAccount",
    "Source",
    "SourceKind",
    "User",
]
