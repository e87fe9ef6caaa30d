"""An SMTP server on loopback (aiosmtpd) that records what it receives.

    with MailSink() as sink:         # or the ``mail_sink`` fixture
        ... SMTP_URL=sink.url ...
        sink.messages                # list of Received (envelope + parsed message)

``reject`` maps recipient addresses to an SMTP reply for RCPT (e.g. "550 5.1.1 No such
user") so that tests can make the server refuse an address.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from publisher.config import reset_settings


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        refusal = self.sink.reject.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Like a real MTA, the message is kept once its final "." has arrived, even if the
        # client goes away before the reply.
        with self.sink.lock:
            self.sink.messages.append(
                Received(
                    envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)
                )
            )
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MailSink:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.reject: dict[str, str] = {}
        # Seconds to wait before replying to each message (a slow server, for kill tests).
        self.delay = 0.0
        self.lock = threading.Lock()
        self.port = _free_port()
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, data_size_limit=10_000_000
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> MailSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def by_recipient(self) -> dict[str, list[Received]]:
        out: dict[str, list[Received]] = {}
        with self.lock:
            for received in self.messages:
                for rcpt in received.rcpt_tos:
                    out.setdefault(rcpt.lower(), []).append(received)
        return out


@pytest.fixture()
def mail_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailSink]:
    """A running sink, with SMTP_URL pointing at it."""
    with MailSink() as sink:
        monkeypatch.setenv("SMTP_URL", sink.url)
        monkeypatch.delenv("NOTIFY_API_KEY", raising=False)
        monkeypatch.delenv("MAIL_TRANSPORT", raising=False)
        reset_settings()  # settings are read once (tests/settings_env.py)
        yield sink
