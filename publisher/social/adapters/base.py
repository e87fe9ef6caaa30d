"""The interface every platform adapter offers, and the two kinds of failure.

Adapters take a plain ``Outgoing`` (no database objects: the call happens outside any
transaction) and either return ``Published`` or raise ``Retryable`` / ``Permanent``.
Each adapter also reconciles: asked to publish something it may already have published
(``maybe_sent``), it checks the platform first, so a post never goes out twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from publisher import outgoing


class PublishError(Exception):
    """A failure, with a message an officer can act on. ``nothing_sent`` is True when the
    post certainly did not reach the platform (no connection was made, or the platform
    answered with a refusal), so a withdrawal can say so plainly."""

    def __init__(self, message: str, *, nothing_sent: bool = False) -> None:
        super().__init__(message)
        self.nothing_sent = nothing_sent


class Retryable(PublishError):
    """Worth trying again later: rate limits, server errors, timeouts, network trouble."""

    def __init__(
        self, message: str, retry_after: float | None = None, *, nothing_sent: bool = False
    ) -> None:
        super().__init__(message, nothing_sent=nothing_sent)
        self.retry_after = retry_after


# Failures that happen before a request could be sent: nothing reached the platform.
_NOT_CONNECTED_NAMES = frozenset(
    {"NewConnectionError", "ConnectTimeout", "ConnectTimeoutError", "ConnectError", "gaierror"}
)


def never_connected(exc: BaseException) -> bool:
    """True when ``exc`` (or what it wraps) says no connection was ever made: refused,
    no such host, or a connect time-out. A reset or read time-out is not: the request
    may have arrived."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ConnectionRefusedError) or type(item).__name__ in _NOT_CONNECTED_NAMES:
            return True
        todo.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    return False


class Permanent(PublishError):
    """Will fail the same way until a person changes something: credentials, the text."""


@dataclass(frozen=True)
class Outgoing:
    post_id: int
    platform: str
    text: str
    link: str | None
    link_title: str | None
    link_description: str | None
    hashtags: list[str]
    image_url: str | None
    image_alt: str | None
    idempotency_key: str
    # Bluesky record key, chosen and committed before the first call.
    rkey: str | None
    # When a worker first recorded its intent to publish (None: never tried before).
    intent_at: dt.datetime | None
    # When the draft was made: nothing on the platform older than this can be this post.
    drafted_at: dt.datetime | None
    # True when an earlier attempt may have reached the platform.
    maybe_sent: bool
    # This attempt's time (the worker's clock).
    attempt_at: dt.datetime
    settings: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    # An uploaded image, stored with the post (publisher.social.uploads): adapters that
    # upload bytes use these instead of fetching ``image_url``.
    image_data: bytes | None = field(default=None, repr=False)
    image_type: str | None = None


@dataclass(frozen=True)
class Published:
    # None only when the platform confirmed the post exists without naming it (X's
    # duplicate refusal after an attempt that may have gone through).
    post_id: str | None
    url: str | None = None
    # True when found on the platform rather than created by this call.
    reconciled: bool = False


class Adapter(Protocol):
    def publish(self, outgoing: Outgoing) -> Published: ...


# The whole of one request to a platform (connect, headers, body, redirects).
REQUEST_DEADLINE = 60.0


def http_session(settings: dict[str, Any]) -> outgoing.CheckedSession:
    """The requests session every adapter uses: only public addresses (or those the
    OUTGOING_ALLOWLIST names), redirects checked, an overall deadline per request. Catch
    ``outgoing.Refused`` (wrapped by some libraries: ``outgoing.refusal_in``) as Permanent."""
    return outgoing.session(float(settings.get("deadline", REQUEST_DEADLINE)))


def refused(what: str, exc: BaseException) -> Permanent:
    """An address the service will not call: the admin must change it. No detail beyond
    the reason, so the message cannot be used to map the council's network."""
    return Permanent(
        f"The {what} address cannot be used: {outgoing.plain_reason(exc)}.", nothing_sent=True
    )


def timeout(settings: dict[str, Any]) -> tuple[float, float]:
    """(connect, read) seconds; an account may lower them (the tests do)."""
    return (float(settings.get("connect_timeout", 5)), float(settings.get("read_timeout", 30)))


def retry_after_header(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)
