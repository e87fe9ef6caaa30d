"""SMTP with reused connections, and the moment of handover (see publisher.mail.transports).

A lost or missing reply after the final "." raises ``UnknownSendOutcome``: the message
was written whole and may have been stored, so it is never retried.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from publisher.config import MailSettings
from publisher.mail.errors import PermanentSendError, RetryableSendError, UnknownSendOutcome
from publisher.mail.message import OutgoingMessage
from publisher.mail.ratelimit import RateLimiter

Handover = Callable[[], None]
# A cached SMTP connection unused for this long is checked (NOOP) before a message
# starts: servers close idle connections (often after a few minutes) without telling us.
IDLE_CHECK_SECONDS = 5.0


def _no_handover() -> None:
    return None


class SmtpTransport:
    """SMTP with connections reused for many messages.

    ``smtp://user:pass@host:587`` upgrades with STARTTLS (required when there are
    credentials, so a password never goes in clear); ``smtps://host:465`` is TLS from
    the start. ``send`` uses one connection; ``send_group`` writes several messages side
    by side on ``SMTP_CONNECTIONS`` connections with one handover for them all.
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
        self.group_size = settings.smtp_connections
        self._lines = [_Line(self) for _ in range(self.group_size)]

    def _open(self) -> smtplib.SMTP:
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
        return conn

    @staticmethod
    def _refused(code: int, resp: bytes, what: str, *, recipient: bool = False) -> Exception:
        text = f"{what} refused: {code} {resp.decode('utf-8', 'replace')}"[:500]
        if 500 <= code < 600:
            return PermanentSendError(text, ends_subscription=recipient)
        return RetryableSendError(text)

    def _encode(self, message: OutgoingMessage) -> bytes:
        data = _dot_stuffed(message.to_bytes(self.sender, self.id_domain))
        return data if data.endswith(b"\r\n") else data + b"\r\n"

    def _begin(self, line: _Line, message: OutgoingMessage, data: bytes) -> None:
        """Everything of one message but its final "."; on a reused connection that
        turns out dead, once more at once on a new one (nothing was stored)."""
        self.limiter.acquire()
        reused = line.conn is not None
        try:
            line.begin(message, data)
            return
        except _ConnectionLostEarly as lost:
            if not reused:
                raise RetryableSendError(lost.reason) from lost
        try:
            line.begin(message, data)
        except _ConnectionLostEarly as lost:
            raise RetryableSendError(lost.reason) from lost

    def send(self, message: OutgoingMessage, on_handover: Handover | None = None) -> str:
        line = self._lines[0]
        self._begin(line, message, self._encode(message))
        try:
            (on_handover or _no_handover)()
        except BaseException:
            # Without the final "." the server discards what it has: nothing sent.
            line.drop()
            raise
        line.finish()
        return line.complete(message)

    def send_group(
        self,
        messages: list[OutgoingMessage],
        on_handover: Callable[[list[int]], set[int]],
    ) -> list[str | Exception]:
        """Send up to ``group_size`` messages side by side, one per connection.

        Each is written up to its final "."; then ``on_handover`` is called once with
        the indexes of those ready and returns the indexes that may go (the caller's
        ledger marks them in one commit). Only those get their final "."; the others
        are abandoned (the server discards them). Returns, per message, its id or the
        error (``RetryableSendError``, ``PermanentSendError``, ``UnknownSendOutcome``,
        or ``LookupError`` for one the handover held back).
        """
        assert len(messages) <= self.group_size
        out: list[str | Exception] = [LookupError("not handed over")] * len(messages)
        ready: list[int] = []
        for i, message in enumerate(messages):
            try:
                self._begin(self._lines[i], message, self._encode(message))
                ready.append(i)
            except (RetryableSendError, PermanentSendError) as exc:
                out[i] = exc
        if not ready:
            return out
        try:
            allowed = on_handover(ready)
        except BaseException:
            for i in ready:
                self._lines[i].drop()
            raise
        going = [i for i in ready if i in allowed]
        for i in ready:
            if i not in allowed:
                self._lines[i].drop()
        # Every final "." first, then every reply: the server works on all at once.
        finished: list[int] = []
        for i in going:
            try:
                self._lines[i].finish()
                finished.append(i)
            except UnknownSendOutcome as exc:
                out[i] = exc
        for i in finished:
            try:
                out[i] = self._lines[i].complete(messages[i])
            except (UnknownSendOutcome, RetryableSendError, PermanentSendError) as exc:
                out[i] = exc
        return out

    def close(self) -> None:
        for line in self._lines:
            line.close()


class _Line:
    """One SMTP connection of a transport, opened when first needed, checked with NOOP
    after it sat idle (servers close idle connections without telling us)."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.conn: smtplib.SMTP | None = None
        self.last_used = 0.0

    def connect(self) -> smtplib.SMTP:
        if self.conn is not None:
            if time.monotonic() - self.last_used < IDLE_CHECK_SECONDS or self._alive():
                return self.conn
            self.drop()  # closed by the server while idle: start afresh
        self.conn = self.transport._open()
        self.last_used = time.monotonic()
        return self.conn

    def _alive(self) -> bool:
        assert self.conn is not None
        try:
            code, _ = self.conn.noop()
        except (OSError, smtplib.SMTPException):
            return False
        return code == 250

    def drop(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()

    def begin(self, message: OutgoingMessage, data: bytes) -> None:
        refused = self.transport._refused
        conn = self.connect()
        try:
            code, resp = conn.mail(self.transport.envelope_from)
            if code == 421:
                # "Closing the channel" (often an idle timeout): a new connection may do.
                self.drop()
                raise _ConnectionLostEarly(f"SMTP server closing: {code} {resp!r}"[:500])
            if code != 250:
                conn.rset()
                raise refused(code, resp, "sender")
            code, resp = conn.rcpt(message.recipient())
            if code not in (250, 251):
                conn.rset()
                raise refused(code, resp, "recipient", recipient=True)
            code, resp = conn.docmd("DATA")
            if code != 354:
                conn.rset()
                raise refused(code, resp, "DATA")
            conn.send(data)
        except (OSError, smtplib.SMTPException) as exc:
            # Before the final ".": the server keeps nothing, sending again is safe.
            self.drop()
            raise _ConnectionLostEarly(f"SMTP connection lost: {exc}") from exc

    def finish(self) -> None:
        """The final "."; from here the server may keep the message."""
        assert self.conn is not None
        try:
            self.conn.send(b".\r\n")
        except (OSError, smtplib.SMTPException) as exc:
            self.drop()
            raise _unknown(exc) from exc

    def complete(self, message: OutgoingMessage) -> str:
        assert self.conn is not None
        try:
            code, resp = self.conn.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            # The whole message went; the server may have stored it before the line
            # dropped. Unknown, not retryable: retrying could send it twice.
            self.drop()
            raise _unknown(exc) from exc
        self.last_used = time.monotonic()
        if code != 250:
            # A clear refusal of the message: the server did not keep it.
            raise self.transport._refused(code, resp, "message")
        assert message.message_id is not None
        return message.message_id


def _unknown(exc: BaseException) -> UnknownSendOutcome:
    return UnknownSendOutcome(
        f"no reply after the message was sent (it may have arrived): {exc}"[:500]
    )


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
