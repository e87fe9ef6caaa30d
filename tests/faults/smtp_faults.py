"""An SMTP server on loopback that misbehaves on purpose (aiosmtpd, like tests/mailsink):

- ``drop_after_data``: addresses whose message is stored once its final "." arrives and
  whose connection is then closed without a reply (the reply is lost);
- ``storm_until``: until this ``time.monotonic()`` every MAIL FROM gets
  "421 4.7.0 Try again later" (a server refusing everyone for a while);
- ``reject`` (from MailSink): addresses refused at RCPT, e.g. "550 5.1.1 No such user";
- ``idle_timeout``: the server closes a connection left idle this long, without a word
  to the client, as many providers do.
"""

from __future__ import annotations

import time
from typing import Any

from aiosmtpd.controller import Controller

from tests.mailsink import MailSink, Received, _Handler


class _FaultyHandler(_Handler):
    sink: FaultySink

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if time.monotonic() < self.sink.storm_until:
            self.sink.refused_in_storm += 1
            return "421 4.7.0 Try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        dropped = {a.lower() for a in envelope.rcpt_tos} & self.sink.drop_after_data
        if not dropped:
            return await super().handle_DATA(server, session, envelope)
        with self.sink.lock:
            self.sink.messages.append(
                Received(
                    envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)
                )
            )
            self.sink.dropped += 1
        # Stored, then the line goes before the reply: the client cannot know.
        server.transport.abort()
        return "250 never seen"


class FaultySink(MailSink):
    def __init__(self, idle_timeout: float = 300) -> None:
        super().__init__()
        self.drop_after_data: set[str] = set()
        self.storm_until = 0.0
        self.refused_in_storm = 0
        self.dropped = 0
        self.controller = Controller(
            _FaultyHandler(self),
            hostname="127.0.0.1",
            port=self.port,
            data_size_limit=10_000_000,
            timeout=idle_timeout,
        )
