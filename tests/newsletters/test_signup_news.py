"""What a parent meets in the emails (issue 13.3): a blip in the directory is not news,
an entry with no need is explained, and the archive lists only emails that went out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from publisher.db import session_scope
from publisher.models import ChangeKind, Frequency
from publisher.newsletters import editions, sending
from publisher.web import create_app
from tests.mailsink import MailSink
from tests.newsletters.helpers import change, parse, parts, send_here, source, subscriber

pytestmark = pytest.mark.date_sensitive

NOW = dt.datetime(2026, 11, 27, 7, 30, tzinfo=dt.UTC)  # a Friday, after the 07:00 close
IN_WINDOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://news.example.gov.uk")
    monkeypatch.setenv("IMMEDIATE_EDITION_MINUTES", "5")
    sending.reset_process_state()
    yield
    sending.reset_process_state()


def test_gone_and_back_within_minutes_is_not_announced_as_new_again(
    db: Any, mail_sink: MailSink
) -> None:
    first_close = NOW - dt.timedelta(minutes=5)
    with session_scope() as session:
        src = source(session)
        change(session, src, "x", "Blip Club", at=first_close - dt.timedelta(minutes=4))
        subscriber(session, "now@example.org", frequency=Frequency.IMMEDIATE)
    first = editions.run_edition(Frequency.IMMEDIATE, send_here, now=first_close)
    assert first.reason == "built" and first.items == 1
    # The directory drops the service for a moment, then it is back.
    with session_scope() as session:
        src = source_row(session)
        gone = first_close + dt.timedelta(minutes=1)
        change(session, src, "x", "Blip Club", kind=ChangeKind.REMOVED, at=gone, present=False)
        back = gone + dt.timedelta(minutes=2)
        change(session, src, "x", "Blip Club", kind=ChangeKind.REOPENED, at=back, present=True)
    later = editions.run_edition(Frequency.IMMEDIATE, send_here, now=NOW)
    assert later.reason == "no news"
    assert len(mail_sink.messages) == 1


def source_row(session: Any) -> Any:
    from sqlalchemy import select

    from publisher.models import Source

    return session.scalars(select(Source)).one()


def test_an_entry_with_no_need_tagged_says_why_it_is_there(db: Any, mail_sink: MailSink) -> None:
    with session_scope() as session:
        src = source(session)
        change(session, src, "a", "Any Needs Club", at=IN_WINDOW, needs=[])
        change(session, src, "b", "Speech Group", at=IN_WINDOW, needs=["communication-interaction"])
        subscriber(session, "p@example.org", needs=["communication-interaction"])
    editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    text, html = parts(parse(mail_sink.messages[0].data))
    note = "No need is listed for this service, so we include it for everyone."
    assert text.count(note) == 1
    assert text.index("Any Needs Club") < text.index(note) < text.index("Speech Group")
    assert html is not None and html.count(note) == 1


def test_the_archive_lists_only_emails_that_reached_someone(db: Any, mail_sink: MailSink) -> None:
    with session_scope() as session:
        src = source(session)
        change(session, src, "a", "Toddler Group", at=IN_WINDOW, minimum_age=0, maximum_age=5)
        subscriber(session, "teen@example.org", age_bands=["16-25"])  # nothing for them
    nobody = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    assert nobody.reason == "built" and nobody.recipients == 0
    client = create_app({"TESTING": True}).test_client()
    assert "Toddler Group" not in client.get("/newsletters").get_data(as_text=True)
    assert client.get(f"/newsletters/{nobody.edition_id}").status_code == 404

    with session_scope() as session:
        src = source_row(session)
        change(session, src, "b", "Youth Forum", at=NOW + dt.timedelta(days=1), minimum_age=16)
    reached = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW + dt.timedelta(days=7))
    assert reached.recipients == 1 and len(mail_sink.messages) == 1
    archive = client.get("/newsletters").get_data(as_text=True)
    assert f"/newsletters/{reached.edition_id}" in archive
    assert f'/newsletters/{nobody.edition_id}"' not in archive
    assert client.get(f"/newsletters/{reached.edition_id}").status_code == 200
