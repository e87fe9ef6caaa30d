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
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email import quoprimime
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
    if _is_bare(value):
        return value
    return _named_address(value)


_NOT_BARE = re.compile(r'[<>"(),;\s]')


def _is_bare(value: str) -> bool:
    return value.isascii() and "@" in value and _NOT_BARE.search(value) is None


_last_date: tuple[int, str] = (0, "")


def _date_now() -> str:
    # One Date header string per second, not one format_datetime per message.
    global _last_date
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = int(now.timestamp())
    if _last_date[0] != stamp:
        _last_date = (stamp, format_datetime(now))
    return _last_date[1]


def _parse_address(value: str) -> str:
    name, addr = parseaddr(value)
    if not addr or "@" not in addr:
        raise ValueError(f"not an email address: {value!r}")
    if not name:
        return addr
    # formataddr encodes a non-ASCII display name as RFC 2047.
    return formataddr((name, addr))


_NOT_WORD = re.compile(r"[^A-Za-z0-9]")


def _word_chars(value: str) -> str:
    return _NOT_WORD.sub("", value)


def _lf(text: str) -> str:
    # Normalise line ends first: quoted-printable would encode a bare CR as =0D.
    if "\r" not in text:  # the usual case: one scan instead of two copies
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _qp(text: str) -> bytes:
    return _qp_lf(_lf(text))


# Encoded lines, kept per process: a newsletter's items are the same lines in email after
# email (bounded by count and line length, cleared when full).
_LINES: dict[str, bytes] = {}
_LINES_MAX = 20_000
_LINE_MAX_CHARS = 2_000


def _qp_lf(text: str) -> bytes:
    """Text with LF line ends, in quoted-printable with CRLF line ends.

    Quoted-printable is line by line, so encoding each line on its own gives the same
    bytes as encoding the whole; that lets encoded lines be reused.
    """
    lines = _LINES
    out = []
    for line in text.split("\n"):
        encoded = lines.get(line)
        if encoded is None:
            encoded = _qp_line(line)
            if len(line) <= _LINE_MAX_CHARS:
                if len(lines) >= _LINES_MAX:
                    lines.clear()
                lines[line] = encoded
        out.append(encoded)
    return b"\r\n".join(out)


def _qp_line(line: str) -> bytes:
    data = line.encode("utf-8")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True)
    # binascii escapes a space or tab at the end of a line as "=20" after it has
    # measured the line, which can leave it 77 characters long; the standard library's
    # slower encoder gets that right, so such lines go there.
    if data.endswith((b" ", b"\t")) and max(map(len, encoded.split(b"\n"))) > 76:
        encoded = quoprimime.body_encode(data.decode("latin-1"), eol="\n").encode("ascii")
    return encoded.replace(b"\n", b"\r\n")


def _qp_open(text: str) -> bytes:
    """``text`` encoded so that more may follow on the same decoded line: it ends with a
    soft line break ("=" then CRLF), which decoders drop.

    Encoding text + "X" and dropping the "X" keeps every line within 75 characters, so the
    soft break's "=" still fits in the 76 that RFC 2045 allows; a space before the break
    is then followed by "=", so it is not trailing white space and needs no escape.
    """
    encoded = _qp_lf(text + "X")
    return encoded[:-1] + b"=\r\n"


def encode_open(text: str) -> bytes:
    """``text`` in quoted-printable, ending in a soft line break, for a QpTemplate's
    ``pieces`` (something encoded once and used in many templates)."""
    return _qp_open(_lf(text))


# In a QpTemplate's text, "\x00<n>\x00" stands for pieces[n]: text already encoded, such
# as a newsletter item that recurs in many variants. NUL never occurs in our text.
PIECE = re.compile(r"\x00(\d+)\x00")


@functools.lru_cache(maxsize=16)
def _splitter(holes: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join([*(re.escape(h) for h in holes), PIECE.pattern]))


class QpTemplate:
    """A body part encoded to quoted-printable once, with holes for per-message values.

    A newsletter variant goes to many people whose emails differ only in their links:
    encoding 25 KB per message was the largest cost of sending. Here the text between the
    holes is encoded once, each piece ending in a soft line break, so that filling in a
    hole costs only the encoding of its value. Decoded, ``fill(values)`` is ``text`` with
    each hole replaced by its value (line ends made LF in the text and in each value).

    ``pieces(n)`` gives the bytes for each "\x00<n>\x00" marker in ``text``, encoded
    with ``encode_open``; decoded, the marker stands for the text those bytes encode.
    """

    __slots__ = ("_pieces",)

    def __init__(
        self,
        text: str,
        holes: Sequence[str],
        pieces: Callable[[int], bytes] | None = None,
    ) -> None:
        text = _lf(text)
        parts: list[bytes | str] = []
        pos = 0
        for match in _splitter(tuple(holes)).finditer(text):
            if match.start() > pos:  # each part ends in a soft break: none needed between
                parts.append(_qp_open(text[pos : match.start()]))
            number = match.group(1)  # the marker's number; None for a hole
            if number is None:
                parts.append(match.group())
            elif pieces is None:
                raise ValueError("the text has markers of encoded pieces, but no pieces")
            else:
                parts.append(pieces(int(number)))
            pos = match.end()
        parts.append(_qp_lf(text[pos:]))
        self._pieces = tuple(parts)

    def fill(self, values: Mapping[str, str]) -> bytes:
        """The encoded part with each hole replaced by ``values[hole]``."""
        return b"".join(
            piece if isinstance(piece, bytes) else encode_open(values[piece])
            for piece in self._pieces
        )


@dataclass(frozen=True)
class EncodedParts:
    """A message body already in quoted-printable with CRLF line ends (from QpTemplate):
    the plain text part and, if there is one, the HTML part."""

    text: bytes
    html: bytes | None = None


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
    text: str | None = None
    html: str | None = None
    # The body already encoded (newsletters, see QpTemplate): used instead of text/html.
    encoded: EncodedParts | None = None
    sender: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    unsubscribe_url: str | None = None
    reference: str | None = None
    message_id: str | None = None
    date: dt.datetime | None = None
    # An earlier attempt at this very message ended with its outcome unknown: a
    # transport that can ask the provider by ``reference`` does so before sending again.
    maybe_sent: bool = False
    # The finished bytes, when built ahead of time (see to_bytes): a sender may prepare
    # the next message in another thread while it waits on the network.
    raw: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.text is None and self.encoded is None:
            raise ValueError("a message needs a text part")

    def recipient(self) -> str:
        return self.to if _is_bare(self.to) else parseaddr(self.to)[1]

    def all_headers(self, sender: str, id_domain: str) -> list[tuple[str, str]]:
        if self.message_id is None:
            self.message_id = make_msgid(domain=id_domain)
        headers = [
            ("From", _address(sender)),
            ("To", _address(self.to)),
            ("Subject", _header_value(self.subject)),
            ("Date", format_datetime(self.date) if self.date else _date_now()),
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
        if self.encoded is not None:
            text_part, html_part = self.encoded.text, self.encoded.html
        else:
            assert self.text is not None  # __post_init__
            text_part = _qp(self.text)
            html_part = None if self.html is None else _qp(self.html)
        if html_part is None:
            return (
                head
                + 'Content-Type: text/plain; charset="utf-8"\r\n'
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            ).encode("ascii") + text_part
        # "=_" can never occur in quoted-printable text, so this boundary is always safe;
        # it need not be secret or random, so it is taken from the Message-ID (all_headers
        # has set one).
        boundary = "=_" + (_word_chars(self.message_id or "")[:60] or secrets.token_hex(10))
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
                html_part,
                f"\r\n--{boundary}--\r\n".encode("ascii"),
            )
        )
