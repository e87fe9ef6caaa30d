"""The SMTP connection across faults (issue 10, point 1): a lost reply after the final
"." is "unknown" (never retried), and a cached connection the server closed while idle
is replaced before the next message starts, with no failure and no wait."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from publisher.config import get_settings, reset_settings
from publisher.mail import (
    OutgoingMessage,
    PermanentSendError,
    RetryableSendError,
    SmtpTransport,
    UnknownSendOutcome,
)
from publisher.mail import smtp as transports
from tests.faults.smtp_faults import FaultySink


def _message(to: str) -> OutgoingMessage:
    return OutgoingMessage(
        to=to,
        subject="News",
        text="Hello.\n",
        html=None,
        unsubscribe_url="https://localoffer.example.gov.uk/u/x",
        message_id=f"<{to}@test>",
    )


@pytest.fixture()
def transport(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SmtpTransport, FaultySink]]:
    with FaultySink(idle_timeout=1) as sink:
        monkeypatch.setenv("SMTP_URL", sink.url)
        monkeypatch.delenv("NOTIFY_API_KEY", raising=False)
        monkeypatch.setenv("SMTP_RATE_PER_MINUTE", "0")
        reset_settings()
        smtp = SmtpTransport(get_settings().mail)
        yield smtp, sink
        smtp.close()


def test_a_reply_lost_after_the_final_dot_is_unknown(
    transport: tuple[SmtpTransport, FaultySink],
) -> None:
    smtp, sink = transport
    sink.drop_after_data = {"lost@example.org"}
    handed_over: list[str] = []
    with pytest.raises(UnknownSendOutcome):
        smtp.send(_message("lost@example.org"), lambda: handed_over.append("lost"))
    assert handed_over == ["lost"]  # the ledger was told before the "."
    assert [m.rcpt_tos for m in sink.messages] == [["lost@example.org"]]
    # The next message goes on a new connection.
    smtp.send(_message("next@example.org"))
    assert len(sink.messages) == 2


@pytest.mark.parametrize("idle", [2.0, transports.IDLE_CHECK_SECONDS + 1])
def test_a_connection_closed_while_idle_is_replaced(
    transport: tuple[SmtpTransport, FaultySink], idle: float
) -> None:
    """Closed by the server after 1 s idle: checked with NOOP after a long idle, or
    (idle too short to check) the first command fails before DATA and the message goes
    at once on a new connection. Either way nothing fails and nothing is sent twice."""
    smtp, sink = transport
    smtp.send(_message("first@example.org"))
    time.sleep(idle)
    started = time.monotonic()
    try:
        smtp.send(_message("second@example.org"))
    except RetryableSendError as exc:  # pragma: no cover - the failure this test is for
        pytest.fail(f"the stale connection was not replaced: {exc}")
    assert time.monotonic() - started < 5
    assert [m.rcpt_tos for m in sink.messages] == [["first@example.org"], ["second@example.org"]]


def test_a_group_goes_side_by_side_with_one_handover(
    transport: tuple[SmtpTransport, FaultySink],
) -> None:
    """Four messages on four connections: one refused at RCPT (never handed over), one
    held back at the handover (its claim was lost: no final "."), one whose reply is
    lost (unknown), one sent."""
    smtp, sink = transport
    assert smtp.group_size == 4
    sink.reject = {"refused@example.org": "550 5.1.1 No such user"}
    sink.drop_after_data = {"lost@example.org"}
    to = ["refused@example.org", "held@example.org", "lost@example.org", "sent@example.org"]
    handed: list[list[int]] = []

    def handover(ready: list[int]) -> set[int]:
        handed.append(ready)
        return set(ready) - {1}

    out = smtp.send_group([_message(a) for a in to], handover)
    assert handed == [[1, 2, 3]]  # one handover for the group, the refused one not in it
    assert isinstance(out[0], PermanentSendError) and out[0].ends_subscription
    assert isinstance(out[1], LookupError)
    assert isinstance(out[2], UnknownSendOutcome)
    assert out[3] == "<sent@example.org@test>"
    time.sleep(0.2)
    received = sorted(r.rcpt_tos[0] for r in sink.messages)
    assert received == ["lost@example.org", "sent@example.org"]  # held back: discarded
    # The group's connections are reused (or replaced) for the next group.
    again = smtp.send_group([_message("next@example.org")], lambda ready: set(ready))
    assert again == ["<next@example.org@test>"]
