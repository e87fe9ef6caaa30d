"""Signed links for providers: one per review (that is, per entry), valid for
``review_link_days`` (60 by default). The token carries the review id and its address,
so a link forwarded from one provider can never answer for another address's review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from publisher.config import get_settings
from publisher.secret import secret_key

SALT = "reviews.reply"
PREFIX = "/check"


class BadLink(ValueError):
    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class LinkClaim:
    review_id: int
    address: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt=SALT)


def make_token(review_id: int, address: str) -> str:
    return str(_serializer().dumps([review_id, address]))


def read_token(token: str, max_age: dt.timedelta | None = None) -> LinkClaim:
    if len(token) > 1000:
        raise BadLink("This link is not right")
    max_age = max_age or dt.timedelta(days=get_settings().review_link_days)
    try:
        data = _serializer().loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise BadLink("This link has run out", expired=True) from exc
    except BadSignature as exc:
        raise BadLink("This link is not right") from exc
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not isinstance(data[0], int)
        or isinstance(data[0], bool)
        or not isinstance(data[1], str)
    ):
        raise BadLink("This link is not right")
    return LinkClaim(review_id=data[0], address=data[1])


def review_url(review_id: int, address: str) -> str:
    return f"{get_settings().public_base_url}{PREFIX}/{make_token(review_id, address)}"
