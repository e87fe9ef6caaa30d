"""An outgoing email and its MIME bytes, assembled directly.

``email.message.EmailMessage`` costs 3-6 ms a message (measured, docs/ARCHITECTURE.md);
writing the few headers and two quoted-printable parts ourselves costs about 0.1 ms.
Header values stay unencoded and unfolded when they are ASCII, which keeps
``List-Unsubscribe`` usable for one-click unsubscribe (policy.default would fold a long
value into an RFC 2047 encoded word that mail providers do not read).
"""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import secrets
from dataclasses import dataclass, field
from email.header import Header
from email.utils import format_datetime, formataddr, make_msgid, parseaddr


def _check_header(name: str, value: str) -> None:
    # A newline in a header value would let content add headers of its own.
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name} must be one line")


def _header_value(value: str) -> str:
    if value.isascii():
        return value
    return Header(value, "utf-8").encode()


@functools.lru_cache(maxsize=64)
def _named_address(value: str) -> str:
    return _parse_address(value)


def _address(value: str) -> str:
    # A bare ASCII address (the usual recipient) needs no parsing: parseaddr costs more
    # than the rest of the headers together.
    if value.isascii() and "@" in value and not any(c in value for c in '<>"(),; \t'):
        return value
    return _named_address(value)


def _parse_address(value: str) -> str:
    name, addr = parseaddr(value)
    if not addr or "@" not in addr:
        raise ValueError(f"not an email address: {value!r}")
    if not name:
        return addr
    # formataddr encodes a non-ASCII display name as RFC 2047.
    return formataddr((name, addr))


def _qp(text: str) -> bytes:
    # Normalise line ends first: quoted-printable would encode a bare CR as =0D.
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True).replace(b"\n", b"\r\n")


@dataclass
class OutgoingMessage:
    """One email to one person.

    ``unsubscribe_url`` (https, RFC 8058) adds ``List-Unsubscribe`` and
    ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, and is passed to Notify as its
    one-click unsubscribe URL. ``reference`` is our own id for the message (Notify's
    ``reference``; the outbox file name).
    """

    to: str
    subject: str
    text: str
    html: str | None = None
    sender: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    unsubscribe_url: str | None = None
    reference: str | None = None
    message_id: str | None = None
    date: dt.datetime | None = None
    # The finished bytes, when built ahead of time (see to_bytes): a sender may prepare
    # the next message in another thread while it waits on the network.
    raw: bytes | None = field(default=None, repr=False)

    def recipient(self) -> str:
        return parseaddr(self.to)[1]

    def all_headers(self, sender: str, id_domain: str) -> list[tuple[str, str]]:
        if self.message_id is None:
            self.message_id = make_msgid(domain=id_domain)
        headers = [
            ("From", _address(sender)),
            ("To", _address(self.to)),
            ("Subject", _header_value(self.subject)),
            ("Date", format_datetime(self.date or dt.datetime.now(dt.UTC))),
            ("Message-ID", self.message_id),
            ("MIME-Version", "1.0"),
        ]
        if self.unsubscribe_url:
            if not self.unsubscribe_url.startswith(
                "https://"
            ) and not self.unsubscribe_url.startswith("http://"):
                raise ValueError("unsubscribe_url must be an http(s) URL")
            headers.append(("List-Unsubscribe", f"<{self.unsubscribe_url}>"))
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        for name, value in self.headers.items():
            headers.append((name, _header_value(value)))
        for name, value in headers:
            _check_header(name, value)
        return headers

    def to_bytes(self, sender: str, id_domain: str) -> bytes:
        """The message as RFC 5322 bytes with CRLF line ends (built once, then kept)."""
        if self.raw is None:
            self.raw = self._build(sender, id_domain)
        return self.raw

    def _build(self, sender: str, id_domain: str) -> bytes:
        head = "".join(f"{n}: {v}\r\n" for n, v in self.all_headers(sender, id_domain))
        text_part = _qp(self.text)
        if self.html is None:
            return (
                head
                + 'Content-Type: text/plain; charset="utf-8"\r\n'
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            ).encode("ascii") + text_part
        # "=_" can never occur in quoted-printable text, so this boundary is always safe.
        boundary = "=_" + secrets.token_hex(10)
        return b"".join(
            (
                (
                    head
                    + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
                    + f"--{boundary}\r\n"
                    + 'Content-Type: text/plain; charset="utf-8"\r\n'
                    + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                ).encode("ascii"),
                text_part,
                (
                    f"\r\n--{boundary}\r\n"
                    + 'Content-Type: text/html; charset="utf-8"\r\n'
                    + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                ).encode("ascii"),
                _qp(self.html),
                f"\r\n--{boundary}--\r\n".encode("ascii"),
            )
        )
