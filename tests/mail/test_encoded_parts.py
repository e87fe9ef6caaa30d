"""Bodies encoded once with holes for each person's links (QpTemplate), checked against
the standard library's decoder and, over SMTP, against a real server and parser."""

from __future__ import annotations

import binascii
import email
import email.policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.mail import OutgoingMessage, get_transport
from publisher.mail.message import EncodedParts, QpTemplate, encode_open
from tests.mailsink import MailSink

HOLES = ("@@A@@", "@@B@@")
# Text that tests the edges of quoted-printable: dots and spaces at line ends and
# starts, "=", tabs, CR/LF in every form, non-ASCII and long runs without a space.
# NUL never occurs in our text: it marks encoded pieces (publisher.mail.message.PIECE).
pieces = st.one_of(
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40),
    st.sampled_from([".", " ", "\t", "=", "\r\n", "\n", "\r", "é", "✓", "x" * 90, ". \n."]),
)
texts = st.lists(st.one_of(pieces, st.sampled_from(HOLES)), max_size=30).map("".join)
values = st.lists(pieces, max_size=8).map("".join)


def _decode(encoded: bytes) -> str:
    return binascii.a2b_qp(encoded.replace(b"\r\n", b"\n")).decode("utf-8")


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


MARKERS = ("\x000\x00", "\x001\x00")
marked_texts = st.lists(
    st.one_of(pieces, st.sampled_from(HOLES), st.sampled_from(MARKERS)), max_size=30
).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=marked_texts, a=values, b=values, p0=values, p1=values)
def test_fill_decodes_to_the_text_with_the_values(
    text: str, a: str, b: str, p0: str, p1: str
) -> None:
    """Holes take each message's values; markers take pieces encoded once elsewhere."""
    encoded_pieces = [encode_open(p0), encode_open(p1)]
    encoded = QpTemplate(text, HOLES, encoded_pieces.__getitem__).fill({"@@A@@": a, "@@B@@": b})
    # Line ends are made LF in the text and in each value on their own (a CR before a
    # hole and an LF at the start of its value stay two line ends).
    expected = _lf(text)
    for old, new in (("@@A@@", a), ("@@B@@", b), (MARKERS[0], p0), (MARKERS[1], p1)):
        expected = expected.replace(old, _lf(new))
    assert _decode(encoded) == expected
    lines = encoded.split(b"\r\n")
    assert all(len(line) <= 76 for line in lines), max(lines, key=len)
    assert b"\n" not in encoded.replace(b"\r\n", b"")  # CRLF only
    assert encoded.isascii()


def test_a_template_without_holes_is_plain_quoted_printable() -> None:
    encoded = QpTemplate("Tom & Jerry = friends\n", ()).fill({})
    assert encoded == b"Tom & Jerry =3D friends\r\n"


def test_markers_without_pieces_are_refused() -> None:
    with pytest.raises(ValueError, match="no pieces"):
        QpTemplate("before \x000\x00 after", HOLES)


def test_a_message_needs_a_body() -> None:
    with pytest.raises(ValueError, match="text part"):
        OutgoingMessage(to="a@example.org", subject="s")


def test_encoded_parts_over_smtp_arrive_whole(mail_sink: MailSink) -> None:
    """Lines that start with "." survive dot-stuffing; links land where the holes were."""
    text = QpTemplate(".Hello\n..two dots\nManage: @@A@@\n.\nEnd.\n", HOLES)
    html = QpTemplate('<p>.x</p>\n<a href="@@A@@">Manage your emails</a>\n', HOLES)
    link = "https://localoffer.example.gov.uk/subscriptions/manage/" + "t." * 60
    parts = EncodedParts(text.fill({"@@A@@": link}), html.fill({"@@A@@": link}))
    transport = get_transport()
    transport.send(
        OutgoingMessage(
            to="parent@example.org",
            subject="News",
            encoded=parts,
            unsubscribe_url="https://localoffer.example.gov.uk/u/1",
            message_id="<ed1-s2@example.gov.uk>",
        )
    )
    transport.close()
    [received] = mail_sink.messages
    msg = email.message_from_bytes(received.data, policy=email.policy.default)
    plain, rich = msg.iter_parts()
    assert plain.get_content().replace("\r\n", "\n") == (
        f".Hello\n..two dots\nManage: {link}\n.\nEnd.\n"
    )
    assert rich.get_content().replace("\r\n", "\n") == (
        f'<p>.x</p>\n<a href="{link}">Manage your emails</a>\n'
    )
    # The boundary comes from the Message-ID, so a resend is byte for byte the same.
    assert msg.get_boundary() == "=_ed1s2examplegovuk"
