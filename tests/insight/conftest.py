"""Fixtures for the insight tests: entries and change-log rows made the way a crawl makes
them (tests.factories), the real app, and summaries brought up to date by the real upkeep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from publisher.config import reset_settings
from publisher.db import session_factory
from publisher.insight import upkeep
from publisher.models import Change, ChangeKind, Entry, Source
from publisher.web import create_app
from tests.factories import make_entry, make_source, record_change

BASE_URL = "https://news.localoffer.example.gov.uk"


@pytest.fixture()
def env(db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)
    monkeypatch.setenv("COUNCIL_NAME", "North Lincolnshire Council")
    reset_settings()
    yield monkeypatch
    reset_settings()


@pytest.fixture()
def session(env: Any) -> Iterator[Session]:
    s = session_factory()()
    yield s
    s.rollback()
    s.close()


@pytest.fixture()
def app(env: Any) -> Flask:
    return create_app({"TESTING": True})


@pytest.fixture()
def client(app: Flask) -> Any:
    return app.test_client()


class Log:
    """Writes entries and changes like a crawl, then refreshes the summaries."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.source: Source = make_source(session)
        self.n = 0

    def entry(self, name: str, **kw: Any) -> Entry:
        self.n += 1
        return make_entry(self.session, self.source, f"svc-{self.n}", name, **kw)

    def change(
        self,
        entry: Entry,
        kind: str | ChangeKind = "added",
        at: dt.datetime | None = None,
        **kw: Any,
    ) -> Change:
        return record_change(self.session, entry, kind, occurred_at=at, **kw)

    def refresh(self, day: dt.date | None = None) -> upkeep.RefreshResult:
        result = upkeep.refresh(self.session, day)
        self.session.commit()
        return result


@pytest.fixture()
def log(session: Session) -> Log:
    return Log(session)
