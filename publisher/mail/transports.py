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
from pathlib import Path
from typing import Protocol

from publisher.config import MailSettings, get_settings
from publisher.datafiles import private_dir, write_private
from publisher.mail.errors import PermanentSendError, RetryableSendError
from publisher.mail.message import OutgoingMessage
from publisher.mail.ratelimit import RateLimiter
from publisher.mail.smtp import Handover, SmtpTransport, _no_handover


class Transport(Protocol):
    name: str

    def send(self, message: OutgoingMessage, on_handover: Handover | None = None) -> str:
        """Send; return the provider's id for the message (or our Message-ID)."""
        ...

    def close(self) -> None: ...


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
