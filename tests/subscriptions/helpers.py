"""Rows for tests: active subscribers made the way the service makes them."""

from __future__ import annotations

from typing import Any

from publisher.db import session_scope
from publisher.models import ConsentSource, Subscriber
from publisher.subscriptions import lifecycle, tokens
from publisher.subscriptions.preferences import parse_choice


def active_subscriber(email: str = "parent@example.org", **prefs: Any) -> int:
    """Request and confirm a subscription through the service's own functions."""
    with session_scope() as session:
        notice = lifecycle.request_subscription(
            session, email, parse_choice(prefs), ConsentSource.WEB_FORM
        )
        assert notice is not None and notice.consent_id is not None
        token = tokens.make(tokens.CONFIRM, notice.subscriber_id, notice.consent_id)
    with session_scope() as session:
        assert lifecycle.confirm(session, token) is lifecycle.ConfirmResult.CONFIRMED
    return notice.subscriber_id


def get(subscriber_id: int) -> Subscriber:
    with session_scope() as session:
        sub = session.get(Subscriber, subscriber_id)
        assert sub is not None
        _ = sub.consents  # load before the session closes
        return sub
