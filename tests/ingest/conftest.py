from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from publisher.config import reset_settings
from publisher.demo.directory import DirectoryServer, DirectoryState
from publisher.demo.generate import make_services

TODAY = dt.date(2026, 11, 27)


@pytest.fixture()
def crawl_env(db, monkeypatch: pytest.MonkeyPatch):
    """Fast, polite-enough crawl settings for tests against a loopback server."""
    monkeypatch.setenv("CRAWL_MIN_REQUEST_INTERVAL", "0")
    monkeypatch.setenv("CRAWL_BACKOFF", "0.01")
    monkeypatch.setenv("CRAWL_RETRIES", "2")
    monkeypatch.setenv("CRAWL_READ_TIMEOUT", "2")
    monkeypatch.setenv("CRAWL_PAGE_SIZE", "4")
    reset_settings()
    yield db
    reset_settings()


@pytest.fixture()
def directory() -> Iterator[DirectoryServer]:
    state = DirectoryState(services=make_services(10, seed=7, today=TODAY), version="3")
    server = DirectoryServer(state).start()
    yield server
    server.stop()
