"""Outgoing email: build a message, pick a transport, send.

    from publisher.mail import OutgoingMessage, get_transport
    transport = get_transport()          # SMTP, GOV.UK Notify or the local outbox
    transport.send(OutgoingMessage(to=..., subject=..., text=..., html=...,
                                   unsubscribe_url=...))
    transport.close()

Failures raise ``RetryableSendError`` or ``PermanentSendError``, or ``UnknownSendOutcome``
when the message was written whole and the reply never came (see publisher.mail.errors).
"""

from publisher.config import MailSettings
from publisher.mail.errors import (
    PermanentSendError,
    RetryableSendError,
    SendError,
    UnknownSendOutcome,
)
from publisher.mail.message import OutgoingMessage
from publisher.mail.ratelimit import RateLimiter
from publisher.mail.transports import (
    NotifyTransport,
    OutboxTransport,
    SmtpTransport,
    Transport,
    get_transport,
)

__all__ = [
    "MailSettings",
    "NotifyTransport",
    "OutboxTransport",
    "OutgoingMessage",
    "PermanentSendError",
    "RateLimiter",
    "RetryableSendError",
    "SendError",
    "SmtpTransport",
    "Transport",
    "UnknownSendOutcome",
    "get_transport",
]
