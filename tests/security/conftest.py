"""The running app, probed from outside (issue 11): the Flask app served on a loopback
port, visited over real HTTP by clients that may come from several loopback addresses
(127.0.0.2, 127.0.0.3, ...: Linux routes all of 127/8 to this machine), with the real
Redis under this test's key prefix and an SMTP sink that records every email."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from publisher.config import reset_settings
from publisher.web import create_app
from tests.browser import LiveServer
from tests.conftest import TEST_REDIS_URL
from tests.mailsink import MailSink, mail_sink  # noqa: F401

BASE_URL = "https://localoffer.example.gov.uk"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK_RE = re.compile(re.escape(BASE_URL) + r"(/subscriptions/[A-Za-z0-9/_.\-]+)")


class _SourceAdapter(HTTPAdapter):
    def __init__(self, source_ip: str) -> None:
        self.source_ip = source_ip
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source_ip, 0)
        super().init_poolmanager(*args, **kwargs)


class Visitor:
    """One client (a browser without JavaScript) at one loopback address."""

    def __init__(self, base: str, source_ip: str = "127.0.0.1") -> None:
        self.base = base
        self.http = requests.Session()
        adapter = _SourceAdapter(source_ip)
        self.http.mount("http://", adapter)

    def get(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 30)
        return self.http.get(self.base + path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 30)
        return self.http.post(self.base + path, **kw)

    def csrf(self, path: str) -> str:
        page = self.get(path)
        found = CSRF_RE.search(page.text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def form(self, path: str, data: dict[str, Any], page: str | None = None) -> requests.Response:
        """POST a form like a browser: with the CSRF token from the page it is on."""
        body = dict(data)
        body["csrf_token"] = self.csrf(page or path)
        return self.post(path, data=body)


class Site:
    def __init__(self, url: str, sink: MailSink, app: Any) -> None:
        self.url = url
        self.sink = sink
        self.app = app

    def visitor(self, source_ip: str = "127.0.0.1") -> Visitor:
        return Visitor(self.url, source_ip)

    def mails_to(self, address: str) -> list[Any]:
        return self.sink.by_recipient().get(address.lower(), [])

    def links(self, received: Any) -> list[str]:
        body = received.message.get_body(preferencelist=("plain",))
        assert body is not None
        return LINK_RE.findall(body.get_content())


@pytest.fixture()
def start_site(
    db: Any,
    redis_prefix: str,
    mail_sink: MailSink,  # noqa: F811
    live_app: Callable[[Any], LiveServer],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Site]:
    """Start the app; keyword arguments become app config (limits, inline sending)."""
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)
    monkeypatch.setenv("CELERY_KEY_PREFIX", redis_prefix)
    reset_settings()

    def start(**config: Any) -> Site:
        settings: dict[str, Any] = {
            "SUBSCRIPTIONS_KEY_PREFIX": redis_prefix,
            "SUBSCRIPTIONS_SEND_INLINE": True,
            # PUBLIC_BASE_URL is https (as in production, behind a TLS proxy) but these
            # clients speak plain HTTP to loopback: let the cookie travel.
            "SESSION_COOKIE_SECURE": False,
        }
        settings.update(config)
        app = create_app(settings)
        server = live_app(app)
        return Site(server.url, mail_sink, app)

    return start


@pytest.fixture()
def site(start_site: Callable[..., Site]) -> Iterator[Site]:
    yield start_site()
