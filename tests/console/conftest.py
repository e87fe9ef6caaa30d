"""Fixtures for the console tests: the real app, officers of each role with real hashed
passwords, and drafts made by the posting engine from real change-log rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from publisher.console.users import create_user
from publisher.db import session_factory
from publisher.models import Platform, Post, SocialAccount, User
from publisher.web import create_app
from tests.factories import drafted_post, make_social_account

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
    if platform is Platform.MASTODON:
        kw.setdefault("creds", {"access_token": "mastodon-secret-token-123456"})
    return make_social_account(session, platform, name, **kw)


@pytest.fixture()
def account(session: Session) -> SocialAccount:
    acc = make_account(session)
    session.commit()
    return acc


@pytest.fixture()
def draft(session: Session, account: SocialAccount) -> Post:
    return drafted_post(session, account)
