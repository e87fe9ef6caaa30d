"""The ways a message leaves: SMTP, GOV.UK Notify, or a local outbox of .eml files.

Each transport sorts failures into ``RetryableSendError`` and ``PermanentSendError`` and
calls ``on_handover`` at the last moment before the provider takes responsibility for the
message (for SMTP, just before the final "." of DATA). Once that "." is written, a lost
or missing reply raises ``UnknownSendOutcome``: the caller records it and never resends.
The caller records the delivery in ``on_handover``: a process killed before that point
has not sent the message, one killed after it has, so the ledger never says "not sent"
about a message that went (see publisher.newsletters.sending).
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from publisher.config import MailSettings, get_settings
from publisher.datafiles import private_dir, write_private
from publisher.mail.errors import PermanentSendError, RetryableSendError, UnknownSendOutcome
from publisher.mail.message import OutgoingMessage
from publisher.mail.ratelimit import RateLimiter

Handover = Callable[[], None]
# A cached SMTP connection unused for this long is checked (NOOP) before a message
# starts: servers close idle connections (often after a few minutes) without telling us.
IDLE_CHECK_SECONDS = 5.0


class Transport(Protocol):
    name: str

    def send(self, message: OutgoingMessage, on_handover: Handover | None = None) -> str:
        """Send; return the provider's id for the message (or our Message-ID)."""
        ...

    def close(self) -> None: ...


def _no_handover() -> None:
    return None


class SmtpTransport:
    """SMTP with one connection reused for many messages.

    ``smtp://user:pass@host:587`` upgrades with STARTTLS (required when there are
    credentials, so a password never goes in clear); ``smtps://host:465`` is TLS from
    the start.
    """

    name = "smtp"

    def __init__(self, settings: MailSettings, limiter: RateLimiter | None = None) -> None:
        parts = urlsplit(settings.smtp_url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(
                "SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465"
            )
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = settings.smtp_timeout
        self.sender = settings.mail_from
        self.envelope_from = _bare(settings.mail_from)
        self.id_domain = settings.message_id_domain
        self.limiter = limiter or RateLimiter("smtp", settings.rate_per_minute)
        self._conn: smtplib.SMTP | None = None
        self._last_used = 0.0

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            if time.monotonic() - self._last_used < IDLE_CHECK_SECONDS or self._alive():
                return self._conn
            self._drop()  # closed by the server while idle: start afresh
        try:
            conn: smtplib.SMTP
            if self.implicit_tls:
                conn = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            # We write the final "." of DATA on its own, after the ledger commit; without
            # TCP_NODELAY Nagle's algorithm holds that small write back until the server's
            # delayed ACK (tens of ms per message).
            if conn.sock is not None:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if not self.implicit_tls and conn.has_extn("starttls"):
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            elif not self.implicit_tls and self.username:
                conn.close()
                raise RetryableSendError(
                    "SMTP server does not offer STARTTLS; not sending a password in clear"
                )
            if self.username:
                conn.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise RetryableSendError(f"SMTP login refused: {exc.smtp_code}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise RetryableSendError(f"cannot reach SMTP server: {exc}") from exc
        self._conn = conn
        return conn

    def _alive(self) -> bool:
        assert self._conn is not None
        try:
            code, _ = self._conn.noop()
        except (OSError, smtplib.SMTPException):
            return False
        return code == 250

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _refused(code: int, resp: bytes, what: str, *, recipient: bool = False) -> Exception:
        text = f"{what} refused: {code} {resp.decode('utf-8', 'replace')}"[:500]
        if 500 <= code < 600:
            return PermanentSendError(text, ends_subscription=recipient)
        return RetryableSendError(text)

    def send(self, message: OutgoingMessage, on_handover: Handover | None = None) -> str:
        data = message.to_bytes(self.sender, self.id_domain)
        data = _dot_stuffed(data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        self.limiter.acquire()
        reused = self._conn is not None
        try:
            return self._send(message, data, on_handover)
        except _ConnectionLostEarly as lost:
            if not reused:
                raise RetryableSendError(lost.reason) from lost
        # A reused connection failed before DATA was complete: nothing was stored, so
        # the same message goes once more at once on a new connection.
        try:
            return self._send(message, data, on_handover)
        except _ConnectionLostEarly as lost:
            raise RetryableSendError(lost.reason) from lost

    def _send(self, message: OutgoingMessage, data: bytes, on_handover: Handover | None) -> str:
        conn = self._connect()
        try:
            code, resp = conn.mail(self.envelope_from)
            if code != 250:
                conn.rset()
                raise self._refused(code, resp, "sender")
            code, resp = conn.rcpt(message.recipient())
            if code not in (250, 251):
                conn.rset()
                raise self._refused(code, resp, "recipient", recipient=True)
            code, resp = conn.docmd("DATA")
            if code != 354:
                conn.rset()
                raise self._refused(code, resp, "DATA")
            conn.send(data)
        except (OSError, smtplib.SMTPException) as exc:
            # Before the final ".": the server keeps nothing, sending again is safe.
            self._drop()
            raise _ConnectionLostEarly(f"SMTP connection lost: {exc}") from exc
        try:
            (on_handover or _no_handover)()
        except BaseException:
            # Without the final "." the server discards what it has: nothing sent.
            self._drop()
            raise
        try:
            conn.send(b".\r\n")
            code, resp = conn.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            # The whole message went; the server may have stored it before the line
            # dropped. Unknown, not retryable: retrying could send it twice.
            self._drop()
            raise UnknownSendOutcome(
                f"no reply after the message was sent (it may have arrived): {exc}"[:500]
            ) from exc
        self._last_used = time.monotonic()
        if code != 250:
            # A clear refusal of the message: the server did not keep it.
            raise self._refused(code, resp, "message")
        assert message.message_id is not None
        return message.message_id

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()


class _ConnectionLostEarly(Exception):
    """The connection failed before the message was complete (nothing was stored)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _dot_stuffed(data: bytes) -> bytes:
    """Double a "." that starts a line, as smtplib.SMTP.data does (we send the final "."
    ourselves). bytes.replace, not smtplib's regular expression: that one tests every
    position of a 25 KB message and cost more than the rest of sending it."""
    data = data.replace(b"\n.", b"\n..")
    return b"." + data if data.startswith(b".") else data


def _bare(address: str) -> str:
    from email.utils import parseaddr

    return parseaddr(address)[1]


class NotifyTransport:
    """GOV.UK Notify's email API through notifications-python-client.

    The Notify template should be ``((subject))`` as subject and ``((body))`` as body;
    Notify makes its own HTML, so only our plain text goes.
    """

    name = "notify"

    def __init__(self, settings: MailSettings, limiter: RateLimiter | None = None) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        if not settings.notify_template_id:
            raise ValueError("NOTIFY_TEMPLATE_ID must be set with NOTIFY_API_KEY")
        if len(settings.notify_api_key) < 74:
            raise ValueError("NOTIFY_API_KEY does not look like a Notify API key")
        self.client = NotificationsAPIClient(
            settings.notify_api_key,
            base_url=settings.notify_base_url,
            timeout=settings.smtp_timeout,
        )
        self.template_id = settings.notify_template_id
        self.limiter = limiter or RateLimiter("notify", settings.rate_per_minute)

    def send(self, message: OutgoingMessage, on_handover: Handover | None = None) -> str:
        from notifications_python_client.errors import APIError

        if message.text is None:
            # Notify builds its own email from our plain text.
            raise ValueError("Notify needs the message's plain text, not encoded parts")
        if message.maybe_sent and message.reference:
            earlier = self._find(message.reference)
            if earlier is not None:
                (on_handover or _no_handover)()
                return earlier
        self.limiter.acquire()
        (on_handover or _no_handover)()
        try:
            response = self.client.send_email_notification(
                email_address=message.recipient(),
                template_id=self.template_id,
                personalisation={"subject": message.subject, "body": message.text},
                reference=message.reference,
                one_click_unsubscribe_url=message.unsubscribe_url,
            )
        except APIError as exc:
            if exc.response is None and message.reference:
                # No answer at all (a timeout or a dropped connection): Notify may have
                # taken the message before the reply was lost. Ask before anyone retries.
                earlier = self._find(message.reference)
                if earlier is not None:
                    return earlier
            raise _notify_error(exc) from exc
        return str((response or {}).get("id", ""))

    def _find(self, reference: str) -> str | None:
        """The id of a notification Notify already has with this reference, if any.
        Notify keeps them for 7 days, longer than we retry. If we cannot ask, the
        message stays unsent for now rather than risk sending it twice."""
        from notifications_python_client.errors import APIError

        self.limiter.acquire()
        try:
            found = self.client.get_all_notifications(template_type="email", reference=reference)
        except APIError as exc:
            raise RetryableSendError(
                f"cannot check Notify for an earlier attempt at {reference}: "
                f"{getattr(exc, 'status_code', '')}"
            ) from exc
        for notification in (found or {}).get("notifications", []):
            if notification.get("reference") == reference and notification.get("id"):
                return str(notification["id"])
        return None

    def close(self) -> None:
        self.client.request_session.close()


def _notify_error(exc: object) -> Exception:
    status = getattr(exc, "status_code", 0)
    text = f"Notify {status}: {getattr(exc, 'message', exc)}"[:500]
    if status == 400:
        # 400 is a validation error: our request will never be accepted as it is. It ends
        # the subscription only when Notify says the address itself is bad.
        about_address = "email_address" in text or "email address" in text.lower()
        return PermanentSendError(text, ends_subscription=about_address)
    # 403 (bad key), 429 (rate or daily limit), 5xx and connection errors: try later.
    return RetryableSendError(text)


class OutboxTransport:
    """With no provider configured: each message is an .eml file under data_dir/outbox.

    Files are named by the message's reference, so sending the same delivery twice
    writes the same file.
    """

    name = "outbox"

    def __init__(self, settings: MailSettings, folder: Path | None = None) -> None:
        self.folder = folder or get_settings().data_dir / "outbox"
        self.sender = settings.mail_from
        self.id_domain = settings.message_id_domain

    def send(self, message: OutgoingMessage, on_handover: Handover | None = None) -> str:
        data = message.to_bytes(self.sender, self.id_domain)
        assert message.message_id is not None
        stem = message.reference or message.message_id.strip("<>").replace("@", "_at_")
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", stem)
        try:
            # Saved emails hold addresses and signed links: owner-only, like the database.
            private_dir(self.folder)
            tmp = self.folder / f".{stem}.{os.getpid()}.tmp"
            write_private(tmp, data)
            (on_handover or _no_handover)()
            os.replace(tmp, self.folder / f"{stem}.eml")
        except OSError as exc:
            raise RetryableSendError(f"cannot write to outbox: {exc}") from exc
        return message.message_id

    def close(self) -> None:
        return None


def get_transport(settings: MailSettings | None = None) -> Transport:
    """The transport the configuration chooses (see publisher.config.MailSettings)."""
    settings = settings or get_settings().mail
    if settings.transport == "notify":
        return NotifyTransport(settings)
    if settings.transport == "smtp":
        return SmtpTransport(settings)
    return OutboxTransport(settings)
