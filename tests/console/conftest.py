"""Fixtures for the console tests: the real app, officers of each role with real hashed
passwords, and drafts made by the posting engine from real change-log rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from publisher.console.users import create_user
from publisher.db import session_factory
from publisher.models import ChangeKind, Platform, Post, PostChange, SocialAccount, User
from publisher.social import create_account
from publisher.social.drafting import draft_posts
from publisher.web import create_app
from tests.factories import make_entry, make_source, record_change

PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def session(db: Engine) -> Iterator[Session]:
    s = session_factory()()
    yield s
    s.rollback()
    s.close()


@pytest.fixture()
def officers(session: Session) -> dict[str, User]:
    users = {
        role: create_user(session, f"{role}@council.example", role.rstrip("2"), PASSWORD)
        for role in ("editor", "approver", "approver2", "admin")
    }
    session.commit()
    return users


@pytest.fixture()
def app(db: Engine) -> Flask:
    return create_app({"TESTING": True})


class Officer:
    """A test client that signs in through the real form, CSRF token and all."""

    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()

    def token(self, path: str = "/console/login") -> str:
        page = self.client.get(path)
        found = TOKEN.search(page.get_data(as_text=True))
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def login(self, email: str, password: str = PASSWORD) -> Any:
        token = self.token()
        return self.client.post(
            "/console/login", data={"email": email, "password": password, "csrf_token": token}
        )

    def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        page: str = "/console/posts",
        **kw: Any,
    ) -> Any:
        """POST like a browser would: with the token from a page the officer has open."""
        form = dict(data or {})
        form.setdefault("csrf_token", self.token(page))
        return self.client.post(path, data=form, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)


@pytest.fixture()
def sign_in(app: Flask, officers: dict[str, User]) -> Any:
    def signed_in(role: str) -> Officer:
        officer = Officer(app)
        response = officer.login(officers[role].email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return officer

    return signed_in


def make_account(
    session: Session,
    platform: Platform = Platform.MASTODON,
    name: str = "Council Mastodon",
    **kw: Any,
) -> SocialAccount:
    settings: dict[str, Any] = {
        Platform.MASTODON: {"api_base_url": "http://127.0.0.1:9"},
        Platform.BLUESKY: {"service_url": "http://127.0.0.1:9", "handle": "lo.test"},
        Platform.FACEBOOK: {"page_id": "1000", "graph_url": "http://127.0.0.1:9"},
        Platform.X: {},
    }[platform]
    creds: dict[str, str] = {
        Platform.MASTODON: {"access_token": "mastodon-secret-token-123456"},
        Platform.BLUESKY: {"app_password": "app-pass-word-1234"},
        Platform.FACEBOOK: {"page_access_token": "fb-page-token-abcdef"},
        Platform.X: {},
    }[platform]
    settings.update(kw.pop("settings", {}))
    return create_account(session, None, platform, name, settings, creds, **kw)


def drafted_post(
    session: Session,
    account: SocialAccount,
    name: str = "Sunny Days Play Group",
    entry_id: str = "svc-1",
    **kw: Any,
) -> Post:
    """A draft made the way the service makes them: from an 'added' change."""
    source = make_source(session, name=f"src-{account.id}-{entry_id}")
    entry = make_entry(session, source, entry_id, name, **kw)
    change = record_change(session, entry, ChangeKind.ADDED)
    session.commit()
    draft_posts([change.id])
    post = session.scalars(
        select(Post)
        .join(PostChange, PostChange.post_id == Post.id)
        .where(PostChange.change_id == change.id, Post.account_id == account.id)
    ).one()
    return post


@pytest.fixture()
def account(session: Session) -> SocialAccount:
    acc = make_account(session)
    session.commit()
    return acc


@pytest.fixture()
def draft(session: Session, account: SocialAccount) -> Post:
    return drafted_post(session, account)
