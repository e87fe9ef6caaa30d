"""Mail transports against real servers on loopback: aiosmtpd for SMTP, the outbox folder."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from publisher.config import get_settings, reset_settings
from publisher.mail import (
    OutboxTransport,
    OutgoingMessage,
    PermanentSendError,
    RetryableSendError,
    SmtpTransport,
    get_transport,
)
from tests.mailsink import MailSink

LONG_UNSUB = "https://localoffer.example.gov.uk/subscriptions/unsubscribe/" + "x" * 150


def _message(to: str = "parent@example.org", **kw: object) -> OutgoingMessage:
    return OutgoingMessage(
        to=to,
        subject=kw.pop("subject", "New services this week: 3 for you"),  # type: ignore[arg-type]
        text=kw.pop("text", "Hello.\nA line with < and & in it.\n.starts with a dot\n"),  # type: ignore[arg-type]
        html=kw.pop("html", "<p>Hello &amp; welcome.</p>"),  # type: ignore[arg-type]
        unsubscribe_url=kw.pop("unsubscribe_url", LONG_UNSUB),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_smtp_sends_multipart_with_unfolded_one_click_headers(mail_sink: MailSink) -> None:
    transport = get_transport()
    assert isinstance(transport, SmtpTransport)
    for i in range(3):  # one connection, reused
        transport.send(_message(f"p{i}@example.org", subject="Café news ✓"))
    transport.close()
    assert sorted(r.rcpt_tos[0] for r in mail_sink.messages) == [
        "p0@example.org",
        "p1@example.org",
        "p2@example.org",
    ]
    raw = mail_sink.messages[0].data
    # One line, unencoded: one-click unsubscribe depends on it.
    assert f"List-Unsubscribe: <{LONG_UNSUB}>\r\n".encode() in raw
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    msg = mail_sink.messages[0].message
    assert msg["Subject"] == "Café news ✓"
    assert msg["Message-ID"].endswith("@127.0.0.1>")
    assert msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert (
        parts[0].get_content().replace("\r\n", "\n")
        == "Hello.\nA line with < and & in it.\n.starts with a dot\n"
    )
    assert parts[1].get_content().startswith("<p>Hello &amp; welcome.</p>")


def test_smtp_5xx_on_recipient_is_permanent_and_connection_survives(mail_sink: MailSink) -> None:
    mail_sink.reject["gone@example.org"] = "550 5.1.1 No such user"
    mail_sink.reject["busy@example.org"] = "451 4.2.0 Try later"
    transport = get_transport()
    with pytest.raises(PermanentSendError) as perm:
        transport.send(_message("gone@example.org"))
    assert perm.value.ends_subscription
    assert "550" in perm.value.reason
    with pytest.raises(RetryableSendError):
        transport.send(_message("busy@example.org"))
    transport.send(_message("ok@example.org"))
    transport.close()
    assert [r.rcpt_tos for r in mail_sink.messages] == [["ok@example.org"]]


def test_handover_failure_sends_nothing(mail_sink: MailSink) -> None:
    transport = get_transport()

    def boom() -> None:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        transport.send(_message("a@example.org"), on_handover=boom)
    transport.send(_message("b@example.org"))
    transport.close()
    assert [r.rcpt_tos for r in mail_sink.messages] == [["b@example.org"]]


def test_unreachable_server_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    sink = MailSink()  # never started: the port refuses connections
    monkeypatch.setenv("SMTP_URL", sink.url)
    reset_settings()  # settings are read once (tests/settings_env.py)
    with pytest.raises(RetryableSendError):
        get_transport().send(_message())


def test_outbox_is_default_and_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMTP_URL", "NOTIFY_API_KEY", "MAIL_TRANSPORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PUBLISHER_DATA_DIR", str(tmp_path))
    reset_settings()
    try:
        transport = get_transport()
        assert isinstance(transport, OutboxTransport)
        transport.send(_message(reference="e1-s2"))
        transport.send(_message(reference="e1-s2"))
        files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
        assert files == ["e1-s2.eml"]
        parsed = email.message_from_bytes(
            (tmp_path / "outbox" / "e1-s2.eml").read_bytes(), policy=email.policy.default
        )
        assert parsed["To"] == "parent@example.org"
    finally:
        reset_settings()


def test_header_injection_and_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="one line"):
        _message(subject="Hi\r\nBcc: victim@example.org").to_bytes("a@example.org", "example.org")
    with pytest.raises(ValueError, match="not an email address"):
        _message(to="nobody").to_bytes("a@example.org", "example.org")
    monkeypatch.setenv("MAIL_TRANSPORT", "pigeon")
    reset_settings()  # settings are read once (tests/settings_env.py)
    with pytest.raises(ValueError, match="MAIL_TRANSPORT"):
        get_settings()
    monkeypatch.setenv("MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("SMTP_URL", "http://example.org")
    reset_settings()  # settings are read once (tests/settings_env.py)
    with pytest.raises(ValueError, match="SMTP_URL"):
        get_transport()
