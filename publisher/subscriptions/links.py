"""Absolute links for emails, built from PUBLIC_BASE_URL (no Flask request needed, so
Celery workers can call these). The paths match ``publisher.web.subscribe``."""

from __future__ import annotations

from publisher.config import get_settings
from publisher.models import ConsentRecord, Subscriber
from publisher.subscriptions import tokens

PREFIX = "/subscriptions"


def _absolute(path: str) -> str:
    return f"{get_settings().public_base_url}{PREFIX}{path}"


def subscribe_url() -> str:
    return _absolute("/")


def manage_url(subscriber: Subscriber) -> str:
    """Long-lived link to change choices, download or delete data (email footers)."""
    token = tokens.make(tokens.MANAGE, subscriber.id, subscriber.token_version)
    return _absolute(f"/manage/{token}")


def unsubscribe_url(subscriber: Subscriber) -> str:
    """Long-lived unsubscribe link: GET shows a button; POST with
    ``List-Unsubscribe=One-Click`` (RFC 8058) unsubscribes at once. Use it for the
    ``List-Unsubscribe`` header and the footer."""
    token = tokens.make(tokens.UNSUBSCRIBE, subscriber.id, subscriber.token_version)
    return _absolute(f"/unsubscribe/{token}")


def confirm_url(subscriber: Subscriber, consent: ConsentRecord) -> str:
    token = tokens.make(tokens.CONFIRM, subscriber.id, consent.id)
    return _absolute(f"/confirm/{token}")


def magic_url(subscriber: Subscriber) -> str:
    """Short-lived (1 hour) link to manage choices, from the "send me a link" form."""
    token = tokens.make(tokens.MAGIC, subscriber.id, subscriber.token_version)
    return _absolute(f"/manage/{token}")
