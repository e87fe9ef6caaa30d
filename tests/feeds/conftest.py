"""Fixtures for the feeds tests: change-log rows made the way a crawl makes them,
the app, and a WebSub hub on loopback that records what it is told."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from flask import Flask

from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.feeds.service import rebuild_feeds
from publisher.models import Change, ChangeKind, Source
from publisher.web import create_app
from tests.factories import make_entry, make_source, record_change

BASE_URL = "https://news.localoffer.example.gov.uk"


@pytest.fixture()
def feed_env(db: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings for these tests; change more with monkeypatch.setenv + reset_settings()."""
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)
    monkeypatch.setenv("COUNCIL_NAME", "North Lincolnshire Council")
    monkeypatch.delenv("WEBSUB_HUB_URL", raising=False)
    monkeypatch.delenv("FEED_MAX_ITEMS", raising=False)
    reset_settings()
    yield monkeypatch
    reset_settings()


@pytest.fixture()
def app(feed_env: Any) -> Flask:
    return create_app({"TESTING": True})


@pytest.fixture()
def client(app: Flask) -> Any:
    return app.test_client()


_ids = itertools.count(1)


def add_change(
    kind: str | ChangeKind = "added",
    name: str = "Sensory play group",
    *,
    notable: bool = True,
    changed_fields: list[str] | None = None,
    **entry: Any,
) -> int:
    """One entry and one change about it; returns the change id."""
    with session_scope() as session:
        source = session.query(Source).filter_by(name="demo").first()
        if source is None:
            source = make_source(session, "demo")
        row = make_entry(session, source, f"svc-{next(_ids)}", name, **entry)
        change = record_change(
            session, row, kind, notable=notable, changed_fields=changed_fields or []
        )
        return change.id


@pytest.fixture()
def changes(feed_env: Any) -> Callable[..., int]:
    return add_change


def rebuild() -> Any:
    return rebuild_feeds()


def count_changes() -> int:
    with session_scope() as session:
        return session.query(Change).count()


@dataclass
class Hub:
    url: str
    received: list[dict[str, str]] = field(default_factory=list)
    status: int = 204


@pytest.fixture()
def hub() -> Iterator[Hub]:
    """A WebSub hub on 127.0.0.1 that records each publish ping and answers ``hub.status``."""
    state = Hub(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            state.received.append(dict(parse_qsl(body)))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hub"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
