"""How a send can fail: the only split the callers act on."""

from __future__ import annotations


class SendError(Exception):
    """Base class; carries a short reason that is safe to store and show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryableSendError(SendError):
    """Try again later: the provider is down, busy, or refused us for now (4xx, 5xx HTTP,
    timeouts, dropped connections, rate limits)."""


class PermanentSendError(SendError):
    """Sending this message again will not help.

    ``ends_subscription`` is True when the fault is the address itself (SMTP 5xx on the
    recipient, Notify rejecting the address): the subscription ends with ``reason``.
    Other permanent failures (the message refused for its content, say) fail only
    this delivery.
    """

    def __init__(self, reason: str, *, ends_subscription: bool = False) -> None:
        super().__init__(reason)
        self.ends_subscription = ends_subscription


class UnknownSendOutcome(SendError):
    """The whole message was written, final "." included, and then no clear answer came
    (the connection dropped, or timed out, before the server's reply). The server may
    have stored it. Never retried: a second copy is worse than one missed edition."""
