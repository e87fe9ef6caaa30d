"""Social media accounts the council posts to, and the posts drafted for them.

A post moves only forward through its states (see ``publisher.social.states``); the
publishing columns (``idempotency_key``, ``platform_rkey``, ``publish_started_at``,
``platform_post_id``) record intent before a platform is called and the result after,
so that a worker that dies in between never causes a second post.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.db import Base, JSONType, UTCDateTime, utcnow
from publisher.models.enums import value_enum


class Platform(enum.Enum):
    """The stored name of each platform. Everything else about a platform (label, limits,
    fields, adapter) is in its description, ``publisher/social/platforms/<name>.py``."""

    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    FACEBOOK = "facebook"
    X = "x"


class PostState(enum.Enum):
    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    REJECTED = "rejected"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class SocialAccount(Base):
    """One account on one platform. ``credentials`` is Fernet ciphertext of a JSON object
    (see ``publisher.social.accounts``); read it only through that module."""

    __tablename__ = "social_accounts"
    __table_args__ = (
        UniqueConstraint("platform", "name", name="uq_social_accounts_platform_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(value_enum(Platform, 16))
    name: Mapped[str] = mapped_column(String(200))
    # Non-secret settings: api_base_url (Mastodon), service_url and handle (Bluesky),
    # page_id and graph_url (Facebook), hashtags, group_max, group_link.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    credentials_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    slots_per_day: Mapped[int] = mapped_column(Integer, default=3)
    # Quiet hours in Europe/London, as minutes after midnight: nothing goes out from
    # quiet_start until quiet_end (the window may wrap past midnight).
    quiet_start_minute: Mapped[int] = mapped_column(Integer, default=21 * 60)
    quiet_end_minute: Mapped[int] = mapped_column(Integer, default=7 * 60)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<SocialAccount {self.id} {self.platform.value} {self.name}>"


class Post(Base):
    __tablename__ = "social_posts"
    __table_args__ = (
        UniqueConstraint("account_id", "group_key", name="uq_social_posts_account_group"),
        Index("ix_social_posts_due", "state", "publish_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[PostState] = mapped_column(value_enum(PostState, 16), default=PostState.DRAFT)
    # What the post announces: added, reopened, updated, closed (several when grouped).
    kind: Mapped[str] = mapped_column(String(16))
    # "change:<id>" for one change, "group:<kind>:<first id>" for a group: with the
    # account, unique, so a change delivered twice makes no second draft.
    group_key: Mapped[str] = mapped_column(String(100))
    # The whole text as it goes out, link and hashtags included.
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    hashtags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # For link cards (Bluesky's app.bsky.embed.external).
    link_title: Mapped[str | None] = mapped_column(Text)
    link_description: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    image_alt: Mapped[str | None] = mapped_column(Text)
    change_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    # [{"entry_pk": 1, "source": "demo", "entry_id": "abc"}, ...]
    entry_refs: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The post this one was redrafted from ("Make a new draft from this post"): the
    # two-person rule reads the whole chain, so a redraft cannot wash out who edited it.
    redrafted_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_posts.id", ondelete="SET NULL")
    )
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    # Publishing.
    publish_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # A worker's claim (and, after a retryable failure, the earliest next try): no other
    # worker takes the post before this time.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(64))
    # Intent, recorded and committed before the platform is called.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    platform_rkey: Mapped[str | None] = mapped_column(String(32))
    publish_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Result.
    platform_post_id: Mapped[str | None] = mapped_column(Text)
    platform_url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[SocialAccount] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Post {self.id} {self.state.value} account={self.account_id}>"


class PostChange(Base):
    """Which change went into which account's post: a change is drafted once per account,
    whether alone or in a group, and the beat sweep finds changes without a row here."""

    __tablename__ = "social_post_changes"
    __table_args__ = (
        UniqueConstraint("account_id", "change_id", name="uq_social_post_changes_account_change"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("social_posts.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="CASCADE"), index=True
    )
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"), index=True)
    entry_pk: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
