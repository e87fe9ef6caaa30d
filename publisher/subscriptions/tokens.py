"""Signed links (itsdangerous), each kind with its own salt so one can never pass for another.

- confirm: [subscriber id, consent id], valid 7 days (unconfirmed requests expire then);
- manage: [subscriber id, token_version], valid 93 days (every email brings a fresh one,
  and the longest gap between editions is a month), dead once token_version moves on;
- unsubscribe: [subscriber id, token_version], no age limit (leaving must always work
  from any email still in an inbox), dead once token_version moves on: it moves at
  unsubscribe, at re-subscription and at erasure;
- magic (the "send me a link" email): [subscriber id, token_version], valid 1 hour.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from publisher.secret import secret_key

CONFIRM_MAX_AGE = dt.timedelta(days=7)
MAGIC_MAX_AGE = dt.timedelta(hours=1)
MANAGE_MAX_AGE = dt.timedelta(days=93)

CONFIRM = "subscriptions.confirm"
MANAGE = "subscriptions.manage"
UNSUBSCRIBE = "subscriptions.unsubscribe"
MAGIC = "subscriptions.magic"


class BadToken(ValueError):
    """A link that was changed, is for something else, or has run out."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class TokenClaim:
    subscriber_id: int
    number: int  # token_version, or the consent id for confirm links


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return _cached_serializer(salt, secret_key())


@lru_cache(maxsize=16)
def _cached_serializer(salt: str, key: str) -> URLSafeTimedSerializer:
    # Keyed by the secret too, so a changed key is picked up. Edition sending signs two
    # links per recipient, so building the serializer once matters there.
    return URLSafeTimedSerializer(key, salt=salt)


def make(kind: str, subscriber_id: int, number: int) -> str:
    return str(_serializer(kind).dumps([subscriber_id, number]))


def read(kind: str, token: str, max_age: dt.timedelta | None = None) -> TokenClaim:
    try:
        data = _serializer(kind).loads(
            token, max_age=int(max_age.total_seconds()) if max_age else None
        )
    except SignatureExpired as exc:
        raise BadToken("This link has run out", expired=True) from exc
    except BadSignature as exc:
        raise BadToken("This link is not right") from exc
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in data)
    ):
        raise BadToken("This link is not right")
    return TokenClaim(subscriber_id=data[0], number=data[1])
