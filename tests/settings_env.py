"""The one way tests change settings: set environment variables, then have the
application read its settings again (``get_settings()`` reads them once and keeps them).

``env.set(NAME="value")`` in a test; every test starts and ends with settings read
afresh from its own environment (the autouse fixture below)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from publisher.config import reset_settings


class Env:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def set(self, **values: str) -> None:
        for name, value in values.items():
            self._monkeypatch.setenv(name, value)
        reset_settings()

    def unset(self, *names: str) -> None:
        for name in names:
            self._monkeypatch.delenv(name, raising=False)
        reset_settings()


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> Env:
    return Env(monkeypatch)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    # Autouse and without dependencies: set up first and torn down last, after
    # monkeypatch has put the environment back.
    reset_settings()
    yield
    reset_settings()
