"""Subscription tasks: send a confirm or manage-link email; apply retention daily."""

from __future__ import annotations

import logging

from publisher.celery import app
from publisher.db import session_scope
from publisher.mail import PermanentSendError, RetryableSendError
from publisher.subscriptions import notices, retention
from publisher.subscriptions.lifecycle import Notice, NoticeKind

log = logging.getLogger(__name__)


@app.task(
    name="publisher.subscriptions.send_notice",
    bind=True,
    max_retries=5,
    default_retry_delay=60,
)
def send_notice(
    self: object, kind: str, subscriber_id: int, consent_id: int | None, reason: str = "requested"
) -> bool:
    """Send one confirm/manage-link email; retry only failures the sender calls retryable.
    Sending re-checks the subscriber, so a late or repeated task sends nothing stale."""
    notice = Notice(NoticeKind(kind), subscriber_id, consent_id=consent_id, reason=reason)
    try:
        return notices.send_now(notice)
    except RetryableSendError as exc:
        raise self.retry(exc=exc) from exc  # type: ignore[attr-defined]
    except PermanentSendError as exc:
        # Not a newsletter: a refused confirm email ends nothing (the request just expires).
        log.warning("permanent failure sending %s to subscriber %s: %s", kind, subscriber_id, exc)
        return False


def dispatch(notice: Notice, *, inline: bool) -> None:
    """Send after the request's transaction committed: here and now (``inline``, the
    tests and small setups) or through the worker queue."""
    if inline:
        notices.send_now(notice)
        return
    send_notice.delay(notice.kind.value, notice.subscriber_id, notice.consent_id, notice.reason)


@app.task(name="publisher.subscriptions.apply_retention")
def apply_retention() -> dict[str, int]:
    """Daily: delete expired unconfirmed requests, erase addresses ended 28+ days ago."""
    with session_scope() as session:
        result = retention.apply_retention(session)
    return {
        "expired_deleted": result.expired_deleted,
        "expired_ended": result.expired_ended,
        "erased": result.erased,
    }
