"""An edition from change log to inbox: built, rendered and sent through SMTP to an
aiosmtpd server on loopback, checked with the standard library's email parser."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from publisher.config import reset_settings
from publisher.db import session_scope, utcnow
from publisher.models import (
    ChangeKind,
    Delivery,
    DeliveryStatus,
    EmailFormat,
    EndReason,
    Frequency,
    Subscriber,
    SubscriberStatus,
)
from publisher.newsletters import editions, sending
from publisher.subscriptions.matching import matches
from tests.mailsink import MailSink
from tests.newsletters.helpers import (
    change,
    names_in_text,
    parse,
    parts,
    send_here,
    source,
    subscriber,
)

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

NOW = dt.datetime(2026, 11, 27, 7, 30, tzinfo=dt.UTC)  # a Friday, after the 07:00 close
IN_WINDOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://news.example.gov.uk")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-for-newsletters-0123456789")
    sending.reset_process_state()
    yield
    sending.reset_process_state()


def _world(session: Any) -> dict[str, Any]:
    src = source(session)
    at = IN_WINDOW
    news = {
        "Little Movers": change(
            session,
            src,
            "a",
            "Little Movers",
            at=at,
            minimum_age=0,
            maximum_age=5,
            needs=["sensory-physical"],
            categories=["leisure"],
            localities=["north"],
        ),
        "Homework Club": change(
            session,
            src,
            "b",
            "Homework Club",
            at=at,
            minimum_age=6,
            maximum_age=11,
            needs=["cognition-learning"],
            categories=["education"],
            localities=["south"],
        ),
        "Job Coaching": change(
            session,
            src,
            "c",
            "Job Coaching",
            at=at,
            minimum_age=16,
            maximum_age=25,
            categories=["training-employment"],
            localities=["north"],
        ),
        "Riding for All": change(
            session,
            src,
            "d",
            "Riding for All",
            at=at,
            minimum_age=5,
            maximum_age=18,
            categories=["leisure"],
            paid=True,
        ),
        "Old Stale Group": change(
            session,
            src,
            "e",
            "Old Stale Group",
            at=at,
            minimum_age=0,
            maximum_age=25,
            stale=True,
            categories=["leisure"],
        ),
    }
    # Bookkeeping-only update and became_stale: never news.
    change(
        session,
        src,
        "f",
        "Quiet Update",
        at=at,
        kind=ChangeKind.UPDATED,
        notable=False,
        changed_fields=["assured_date"],
        minimum_age=0,
        maximum_age=25,
        categories=["health"],
    )
    change(
        session,
        src,
        "g",
        "Gone Stale",
        at=at,
        kind=ChangeKind.BECAME_STALE,
        minimum_age=0,
        maximum_age=25,
        categories=["health"],
    )
    return {"src": src, "news": news}


def test_each_recipient_gets_exactly_their_matching_changes(db: Any, mail_sink: MailSink) -> None:
    with session_scope() as session:
        world = _world(session)
        people = {
            "all@example.org": subscriber(session, "all@example.org"),
            "little@example.org": subscriber(session, "little@example.org", age_bands=["0-5"]),
            "young@example.org": subscriber(session, "young@example.org", age_bands=["16-25"]),
            "paid@example.org": subscriber(
                session, "paid@example.org", categories=["leisure"], paid_opt_in=True
            ),
            "south@example.org": subscriber(
                session, "south@example.org", localities=["south"], format=EmailFormat.TEXT
            ),
            "nothing@example.org": subscriber(
                session, "nothing@example.org", categories=["childcare"]
            ),
            "monthly@example.org": subscriber(
                session, "monthly@example.org", frequency=Frequency.MONTHLY
            ),
            "left@example.org": subscriber(
                session, "left@example.org", status=SubscriberStatus.ENDED
            ),
        }
        expected = {}
        snapshots = {name: c.snapshot for name, c in world["news"].items()}
        for address, person in people.items():
            if (
                person.frequency is not Frequency.WEEKLY
                or person.status is not SubscriberStatus.ACTIVE
            ):
                continue
            wanted = {n for n, snap in snapshots.items() if matches(person, snap)}
            if wanted:
                expected[address] = wanted
    result = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    assert result.reason == "built"
    received = mail_sink.by_recipient()
    assert set(received) == set(expected)  # nobody empty, nobody else, nobody twice
    assert "Old Stale Group" not in str(expected)  # stale is never news
    for messages in received.values():
        body = parts(parse(messages[0].data))[0]
        assert "Quiet Update" not in body and "Gone Stale" not in body
    for address, messages in received.items():
        assert len(messages) == 1
        msg = parse(messages[0].data)
        text, html = parts(msg)
        got = names_in_text(text, list(snapshots))
        assert got == expected[address], address
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsub = msg["List-Unsubscribe"]
        assert unsub.startswith("<https://news.example.gov.uk/subscriptions/unsubscribe/")
        assert unsub[1:-1] in text
        assert "/subscriptions/manage/" in text
        assert f"https://news.example.gov.uk/newsletters/{result.edition_id}" in text
        assert msg["Message-ID"] and msg["Date"]
        if address == "south@example.org":
            assert html is None  # asked for plain text
        else:
            assert html is not None
            assert '<html lang="en-GB">' in html
            assert "style=" in html and "<style>" not in html  # CSS inlined
            for name in expected[address]:
                assert f">{name}</a>" in html
    young_text = parts(parse(received["young@example.org"][0].data))[0]
    assert "16-25: preparing for adulthood" in young_text
    all_text = parts(parse(received["all@example.org"][0].data))[0]
    assert "16-25: preparing for adulthood" not in all_text
    assert "Riding for All" not in all_text  # paid: only to those who opted in
    with session_scope() as session:
        statuses = session.scalars(select(Delivery.status)).all()
    assert statuses and set(statuses) == {DeliveryStatus.SENT}


def test_running_twice_sends_nobody_twice(db: Any, mail_sink: MailSink) -> None:
    with session_scope() as session:
        _world(session)
        subscriber(session, "all@example.org")
    first = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    again = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW + dt.timedelta(hours=1))
    assert first.reason == "built" and again.reason == "not due"
    assert first.edition_id is not None
    with session_scope() as session:
        ids = session.scalars(select(Subscriber.id)).all()
    send_here(first.edition_id, list(ids))  # the same batch delivered twice
    assert len(mail_sink.messages) == 1


def test_repeated_edits_collapse_and_came_and_went_is_silent(db: Any, mail_sink: MailSink) -> None:
    with session_scope() as session:
        src = source(session)
        t = IN_WINDOW
        change(session, src, "x", "Play Scheme", at=t, minimum_age=5, maximum_age=11)
        change(
            session,
            src,
            "x",
            "Play Scheme (Saturdays)",
            kind=ChangeKind.UPDATED,
            at=t + dt.timedelta(hours=1),
            changed_fields=["name"],
        )
        change(session, src, "y", "Drop-in", at=t, minimum_age=5, maximum_age=11)
        change(
            session,
            src,
            "y",
            "Drop-in",
            kind=ChangeKind.REMOVED,
            at=t + dt.timedelta(hours=2),
            present=False,
        )
        change(
            session,
            src,
            "z",
            "Swim Club",
            kind=ChangeKind.UPDATED,
            at=t,
            minimum_age=5,
            maximum_age=11,
            changed_fields=["assured_date"],
            notable=False,
        )
        change(
            session,
            src,
            "w",
            "Speech Clinic",
            kind=ChangeKind.UPDATED,
            at=t,
            minimum_age=5,
            maximum_age=11,
            changed_fields=["email", "postcodes"],
        )
        change(
            session,
            src,
            "v",
            "Toy Library",
            kind=ChangeKind.REMOVED,
            at=t,
            minimum_age=5,
            maximum_age=11,
            present=False,
        )
        subscriber(session, "p@example.org")
    editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    [received] = mail_sink.messages
    msg = parse(received.data)
    text, _ = parts(msg)
    lines = text.splitlines()
    assert "Play Scheme (Saturdays)" in lines and "Play Scheme" not in lines
    assert "Drop-in" not in text and "Swim Club" not in text
    assert "What changed: The address has changed. The email address has changed." in text
    assert "Toy Library (no longer available)" in text
    assert msg["Subject"].startswith("1 new service, 1 change and 1 service gone")
    # Sections in order: new, changed, no longer available.
    assert (
        text.index("New services")
        < text.index("Services that have changed")
        < text.index("Services no longer available")
    )


def test_smtp_5xx_ends_the_subscription_with_its_reason(db: Any, mail_sink: MailSink) -> None:
    mail_sink.reject["gone@example.org"] = "550 5.1.1 User unknown"
    with session_scope() as session:
        _world(session)
        subscriber(session, "gone@example.org")
        subscriber(session, "fine@example.org")
    editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    assert set(mail_sink.by_recipient()) == {"fine@example.org"}
    with session_scope() as session:
        gone = session.scalars(
            select(Subscriber).where(Subscriber.email == "gone@example.org")
        ).one()
        assert gone.status is SubscriberStatus.ENDED and gone.end_reason is EndReason.BOUNCED
        failed = session.scalars(select(Delivery).where(Delivery.subscriber_id == gone.id)).one()
        assert failed.status is DeliveryStatus.FAILED and "550" in (failed.error or "")


def test_size_cap_links_to_the_website_for_the_rest(
    db: Any, mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITION_MAX_ITEMS", "3")
    reset_settings()  # settings are read once (tests/settings_env.py)
    with session_scope() as session:
        src = source(session)
        for i in range(7):
            change(
                session, src, f"s{i}", f"Service {i}", at=IN_WINDOW, minimum_age=0, maximum_age=25
            )
        subscriber(session, "p@example.org")
    result = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    text, html = parts(parse(mail_sink.messages[0].data))
    assert len(names_in_text(text, [f"Service {i}" for i in range(7)])) == 3
    assert "There are 4 more changes for you" in text
    assert html is not None and f"/newsletters/{result.edition_id}" in html


def test_no_news_no_email(db: Any, mail_sink: MailSink) -> None:
    with session_scope() as session:
        src = source(session)
        change(session, src, "q", "Checked Again", kind=ChangeKind.BECAME_STALE, at=IN_WINDOW)
        subscriber(session, "p@example.org")
    result = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    assert result.reason == "built" and result.recipients == 0
    assert mail_sink.messages == []
    # Immediate editions are not even made without news.
    assert editions.run_edition(Frequency.IMMEDIATE, send_here, now=utcnow()).reason == "no news"


def test_an_address_we_cannot_send_to_fails_only_its_delivery(db: Any, mail_sink: MailSink) -> None:
    with session_scope() as session:
        _world(session)
        subscriber(session, "not-an-address")  # stored before validation existed, say
        subscriber(session, "fine@example.org")
    editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    assert set(mail_sink.by_recipient()) == {"fine@example.org"}
    with session_scope() as session:
        rows = {d.subscriber_id: d for d in session.scalars(select(Delivery)).all()}
        bad = session.scalars(select(Subscriber).where(Subscriber.email == "not-an-address")).one()
        assert rows[bad.id].status is DeliveryStatus.FAILED
        assert "not an email address" in (rows[bad.id].error or "")


def test_edition_in_the_outbox_is_whole_with_working_personal_links(
    db: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The embedded default: each message an .eml file. The body is encoded once per
    variant with holes for the links; each file must still parse, and each link must be
    that person's own and valid."""
    import re

    from publisher.subscriptions import tokens

    for name in ("SMTP_URL", "NOTIFY_API_KEY", "MAIL_TRANSPORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PUBLISHER_DATA_DIR", str(tmp_path))
    reset_settings()
    # Settings are cached per process: drop them again so later tests read their own.
    request.addfinalizer(reset_settings)
    with session_scope() as session:
        _world(session)
        ids = {subscriber(session, f"p{i}@example.org").id: f"p{i}@example.org" for i in range(3)}
    result = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 3
    for path in files:
        msg = parse(path.read_bytes())
        text, html = parts(msg)
        assert html is not None
        owner = next(i for i, address in ids.items() if address == msg["To"])
        assert path.name == f"ed{result.edition_id}-s{owner}.eml"
        # The signature separator is "-- " on a line of its own (RFC 3676), so mail
        # programs can fold the footer away; quoted-printable keeps its space.
        assert "\n-- \nYou get this email" in text.replace("\r\n", "\n")
        manage = re.findall(r"/subscriptions/manage/([\w.-]+)", text)
        unsub = re.findall(r"/subscriptions/unsubscribe/([\w.-]+)", text)
        assert manage and unsub
        assert tokens.read(tokens.MANAGE, manage[0]).subscriber_id == owner
        assert tokens.read(tokens.UNSUBSCRIBE, unsub[0]).subscriber_id == owner
        # The same links in the HTML part and the List-Unsubscribe header.
        assert f"/subscriptions/manage/{manage[0]}" in html
        assert msg["List-Unsubscribe"] == (
            f"<https://news.example.gov.uk/subscriptions/unsubscribe/{unsub[0]}>"
        )
        lines = path.read_bytes().split(b"\r\n")
        assert max(len(line) for line in lines) <= 998  # SMTP's line limit
