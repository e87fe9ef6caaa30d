"""The send task, called directly (thin task: one service call and a retry decision)."""

from __future__ import annotations

import socket

import pytest
from celery.exceptions import Retry

from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.mail import RetryableSendError
from publisher.models import ConsentSource
from publisher.subscriptions import lifecycle
from publisher.subscriptions.preferences import parse_choice
from tests.subscriptions.conftest import links_in

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def _pending_notice(email: str) -> lifecycle.Notice:
    with session_scope() as session:
        notice = lifecycle.request_subscription(
            session, email, parse_choice({}), ConsentSource.JSON_API
        )
    assert notice is not None
    return notice


def test_send_notice_task_sends_the_confirm_email_once_it_is_still_wanted(app, mail_sink):
    from publisher.tasks.subscriptions import send_notice

    notice = _pending_notice("t@example.org")
    args = [notice.kind.value, notice.subscriber_id, notice.consent_id, notice.reason]
    assert send_notice.run(*args) is True
    assert [m.rcpt_tos for m in mail_sink.messages] == [["t@example.org"]]
    assert links_in(mail_sink.messages[0].message)[0].startswith("/subscriptions/confirm/")
    # Confirmed since: a late duplicate of the task sends nothing.
    token = links_in(mail_sink.messages[0].message)[0].rsplit("/", 1)[1]
    with session_scope() as session:
        lifecycle.confirm(session, token)
    assert send_notice.run(*args) is False
    assert len(mail_sink.messages) == 1


def test_send_notice_task_retries_when_the_server_is_down(app, mail_sink, monkeypatch):
    from publisher.tasks.subscriptions import send_notice

    notice = _pending_notice("t@example.org")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{s.getsockname()[1]}")
        reset_settings()  # settings are read once (tests/settings_env.py)
    # Called directly, Celery's retry() re-raises the error instead of queueing a retry.
    with pytest.raises((Retry, RetryableSendError)):
        send_notice.run(notice.kind.value, notice.subscriber_id, notice.consent_id, notice.reason)


def test_send_notice_task_gives_up_on_a_refused_address(app, mail_sink):
    from publisher.tasks.subscriptions import send_notice

    notice = _pending_notice("t@example.org")
    mail_sink.reject["t@example.org"] = "550 5.1.1 No such user"
    assert send_notice.run(notice.kind.value, notice.subscriber_id, notice.consent_id) is False
    assert mail_sink.messages == []
