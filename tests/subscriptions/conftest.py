"""Fixtures for the subscriptions tests: the Flask app on the test database, the real
Redis (under this test's key prefix) and an SMTP sink on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from publisher.config import reset_settings
from publisher.web import create_app
from tests.conftest import TEST_REDIS_URL
from tests.mailsink import MailSink, mail_sink  # noqa: F401

BASE_URL = "https://localoffer.example.gov.uk"


@pytest.fixture()
def app(db: Any, redis_prefix: str, mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch) -> Flask:  # noqa: F811
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)
    monkeypatch.setenv("CELERY_KEY_PREFIX", redis_prefix)
    reset_settings()
    return create_app(
        {
            "TESTING": True,
            "SUBSCRIPTIONS_KEY_PREFIX": redis_prefix,
            "SUBSCRIPTIONS_SEND_INLINE": True,
        }
    )


@pytest.fixture()
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def csrf(client: FlaskClient, path: str = "/subscriptions/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return csrf_from(response.get_data(as_text=True))


LINK_RE = re.compile(re.escape(BASE_URL) + r"(/subscriptions/[A-Za-z0-9/_.\-]+)")


def links_in(message: Any) -> list[str]:
    """Paths of our links in a received message's plain-text part."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return LINK_RE.findall(body.get_content())


def subscribe(client: FlaskClient, email: str, **prefs: Any) -> Any:
    data: dict[str, Any] = {"csrf_token": csrf(client), "email": email}
    data.update(prefs)
    return client.post("/subscriptions/", data=data)
