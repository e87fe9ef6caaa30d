"""Fixtures for the social tests: officers of each role, accounts and posts from real
change-log rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from publisher.db import session_factory
from publisher.models import ChangeKind, Platform, Post, PostChange, Role, SocialAccount, User
from publisher.social import create_account
from publisher.social.drafting import draft_posts
from tests.factories import make_entry, make_source, record_change


@pytest.fixture()
def session(db: Engine) -> Iterator[Session]:
    s = session_factory()()
    yield s
    s.rollback()
    s.close()


def make_user(session: Session, email: str, role: Role) -> User:
    user = User(email=email, password_hash="not-used-here", role=role)
    session.add(user)
    session.flush()
    return user


@pytest.fixture()
def officers(session: Session) -> dict[str, User]:
    users = {
        "editor": make_user(session, "editor@council.example", Role.EDITOR),
        "approver": make_user(session, "approver@council.example", Role.APPROVER),
        "approver2": make_user(session, "approver2@council.example", Role.APPROVER),
        "admin": make_user(session, "admin@council.example", Role.ADMIN),
    }
    session.commit()
    return users


def make_account(
    session: Session, platform: Platform, name: str = "Local Offer", **kw: Any
) -> SocialAccount:
    settings: dict[str, Any] = {
        Platform.MASTODON: {"api_base_url": "http://127.0.0.1:9"},
        Platform.BLUESKY: {"service_url": "http://127.0.0.1:9", "handle": "lo.test"},
        Platform.FACEBOOK: {"page_id": "1000", "graph_url": "http://127.0.0.1:9"},
        Platform.X: {},
    }[platform]
    creds: dict[str, str] = {
        Platform.MASTODON: {"access_token": "mastodon-token-123456"},
        Platform.BLUESKY: {"app_password": "app-pass-word-1234"},
        Platform.FACEBOOK: {"page_access_token": "fb-page-token-abcdef"},
        Platform.X: {},
    }[platform]
    settings.update(kw.pop("settings", {}))
    creds.update(kw.pop("creds", {}))
    return create_account(session, None, platform, name, settings, creds, **kw)


def drafted_post(
    session: Session, account: SocialAccount, name: str = "Sunny Days Play Group", **kw: Any
) -> Post:
    """A draft made the way the service makes them: from an 'added' change."""
    entry_id = kw.pop("entry_id", "svc-1")
    source = make_source(session, name=f"src-{account.id}-{entry_id}")
    entry = make_entry(session, source, entry_id, name, **kw)
    change = record_change(session, entry, ChangeKind.ADDED)
    session.commit()
    draft_posts([change.id])
    return session.scalars(
        select(Post)
        .join(PostChange, PostChange.post_id == Post.id)
        .where(PostChange.change_id == change.id, Post.account_id == account.id)
    ).one()
