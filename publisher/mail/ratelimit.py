"""One provider rate limit shared by every worker process, kept in Redis.

Fixed one-second windows: each second allows ``ceil(per_minute / 60)`` messages in all.
A process takes its allowance in small chunks (one Redis round trip per chunk, not per
message) and sleeps to the next second when the window is spent.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

_SCRIPT = """
local t = redis.call('TIME')
local key = KEYS[1] .. ':' .. t[1]
local limit = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local used = tonumber(redis.call('GET', key) or '0')
local grant = math.min(want, limit - used)
if grant > 0 then
  redis.call('INCRBY', key, grant)
  redis.call('EXPIRE', key, 5)
else
  grant = 0
end
return {grant, 1000000 - tonumber(t[2])}
"""


class RateLimiter:
    def __init__(
        self, name: str, per_minute: int, client: Any | None = None, chunk: int = 20
    ) -> None:
        self.per_second = math.ceil(per_minute / 60) if per_minute > 0 else 0
        self.chunk = max(1, min(chunk, self.per_second)) if self.per_second else 0
        # Tests share one Redis: reuse their Celery key prefix to keep keys apart.
        prefix = os.environ.get("CELERY_KEY_PREFIX", "")
        self.key = f"{prefix}publisher:ratelimit:{name}"
        self._client = client
        self._script: Any = None
        self._tokens = 0
        self._window = -1

    def _redis(self) -> Any:
        if self._client is None:
            from publisher.redis_embedded import redis_client

            self._client = redis_client()
        if self._script is None:
            self._script = self._client.register_script(_SCRIPT)
        return self._script

    def acquire(self) -> None:
        """Wait until one more message may go."""
        if not self.per_second:
            return
        # Tokens are only good within the second they were granted for.
        now_window = int(time.time())
        if self._tokens > 0 and now_window == self._window:
            self._tokens -= 1
            return
        while True:
            grant, micros_left = self._redis()(keys=[self.key], args=[self.per_second, self.chunk])
            if int(grant) > 0:
                self._tokens = int(grant) - 1
                self._window = int(time.time())
                return
            time.sleep(int(micros_left) / 1_000_000 + 0.001)
