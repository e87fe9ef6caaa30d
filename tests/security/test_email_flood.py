"""Confirmation-email flood (issue 11, point 1), probed over HTTP from several clients.

The probe made one inbox receive 124 emails in 30 seconds by adding ``+tag`` variants
and changing client. Now limits count the mailbox (case and ``+tag`` removed), IPv6
clients per /64, a mailbox gets at most 3 confirmation or link emails a day whatever the
client, and an overall hourly cap stops a flood spread over many mailboxes, with one
clear log line. Known and unknown addresses get the same answers throughout.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from publisher.db import session_scope
from publisher.models import Subscriber, SubscriberStatus
from tests.security.conftest import Site
from tests.subscriptions.helpers import active_subscriber

CLIENTS = [f"127.0.0.{n}" for n in range(2, 12)]


def _inbox(site: Site, local: str, domain: str = "example.org") -> int:
    """Emails that reached one mailbox, whatever +tag or case they were sent to."""
    total = 0
    for rcpt, received in site.sink.by_recipient().items():
        name, _, dom = rcpt.partition("@")
        if name.split("+", 1)[0] == local and dom == domain:
            total += len(received)
    return total


def _ask(site: Site, client: str, form: str, email: str) -> Any:
    visitor = site.visitor(client)
    if form == "link":
        return visitor.form("/subscriptions/link", {"email": email})
    return visitor.form(
        "/subscriptions/", {"email": email, "frequency": "weekly", "format": "html"}
    )


def test_tag_and_case_variants_from_many_clients_reach_the_inbox_3_times_a_day(
    site: Site,
) -> None:
    # Subscribed, so that both forms send an email every time (the worst case).
    active_subscriber("victim@example.org")
    codes = []
    for i, client in enumerate(CLIENTS):
        # New +tag variants to sign up; the known address in other cases for links.
        codes.append(_ask(site, client, "subscribe", f"victim+c{i}@example.org").status_code)
        codes.append(
            _ask(
                site, client, "link", "VICTIM@Example.org" if i % 2 else "Victim@example.ORG"
            ).status_code
        )
    assert _inbox(site, "victim") == 3
    assert codes[:3] == [303, 303, 303]
    assert set(codes[3:]) == {429}


def test_the_daily_mailbox_cap_holds_past_the_hourly_window(start_site: Any) -> None:
    # With the hourly per-address limit out of the way, the day's cap still holds.
    site = start_site(SUBSCRIPTIONS_LIMIT_PER_ADDRESS=100)
    for client in CLIENTS[:6]:
        _ask(site, client, "subscribe", "daily@example.org")
    assert _inbox(site, "daily") == 3


def test_ipv6_clients_are_counted_per_64(start_site: Any) -> None:
    site = start_site(SUBSCRIPTIONS_LIMIT_PER_CLIENT=2)
    # Loopback has one IPv6 address, so the client address is set on the app directly.
    with site.app.test_client() as c:

        def post(addr: str, n: int) -> int:
            page = c.get("/subscriptions/", environ_base={"REMOTE_ADDR": addr})
            token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
            return int(
                c.post(
                    "/subscriptions/",
                    data={"csrf_token": token, "email": f"six{n}@example.org"},
                    environ_base={"REMOTE_ADDR": addr},
                ).status_code
            )

        same_64 = [post(f"2001:db8:1:2::{n:x}", n) for n in range(1, 4)]
        other_64 = post("2001:db8:1:3::1", 9)
    assert same_64 == [303, 303, 429]
    assert other_64 == 303


def test_an_overall_hourly_cap_stops_a_distributed_flood_and_says_so(
    start_site: Any, caplog: pytest.LogCaptureFixture
) -> None:
    site = start_site(SUBSCRIPTIONS_EMAILS_PER_HOUR=5)
    with caplog.at_level(logging.WARNING):
        codes = [
            _ask(site, client, "subscribe", f"person{i}@example.org").status_code
            for i, client in enumerate(CLIENTS)
        ]
    assert codes == [303] * 5 + [429] * 5
    assert len(site.sink.messages) == 5
    told = [r for r in caplog.records if "SUBSCRIPTIONS_EMAILS_PER_HOUR" in r.getMessage()]
    assert len(told) == 1, "one clear line, not one per request"
    assert "stopped" in told[0].getMessage()


def test_known_and_unknown_addresses_get_the_same_answers(site: Site) -> None:
    active_subscriber("known@example.org")
    answers: dict[str, list[tuple[int, str]]] = {"known": [], "unknown": []}
    for who in answers:
        for form in ("subscribe", "link", "subscribe", "link"):
            r = _ask(
                site, "127.0.0.20" if who == "known" else "127.0.0.21", form, f"{who}@example.org"
            )
            answers[who].append((r.status_code, r.headers.get("Location", "") or r.text))
    assert answers["known"] == answers["unknown"]
    with session_scope() as session:
        assert session.query(Subscriber).filter_by(email="known@example.org").one().status is (
            SubscriberStatus.ACTIVE
        )
