"""A service that names no need goes to readers who chose a need; only their email says
why it is there (issue 13.3). The note is part of what a variant is, so readers who chose
no need, or whose items all name a need, share one email without it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from publisher.config import get_settings
from publisher.db import session_scope
from publisher.models import (
    ChangeKind,
    Delivery,
    Edition,
    EditionStatus,
    EditionVariant,
    EmailFormat,
    Frequency,
    Subscriber,
)
from publisher.newsletters import editions, sending
from publisher.newsletters.building import build_edition, resume_build
from publisher.web import create_app
from tests.mailsink import MailSink
from tests.newsletters.helpers import change, parse, parts, send_here, source, subscriber

pytestmark = pytest.mark.date_sensitive

NOW = dt.datetime(2026, 11, 27, 7, 30, tzinfo=dt.UTC)  # a Friday, after the 07:00 close
IN_WINDOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
NOTE = "No need is listed for this service, so we include it for everyone."
OLD_NOTE = "whatever needs you chose"
SPEECH = "communication-interaction"


@pytest.fixture(autouse=True)
def _fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://news.example.gov.uk")
    sending.reset_process_state()
    yield
    sending.reset_process_state()


def _bodies(sink: MailSink) -> dict[str, tuple[str, str | None]]:
    got = sink.by_recipient()
    assert all(len(msgs) == 1 for msgs in got.values())
    return {address: parts(parse(msgs[0].data)) for address, msgs in got.items()}


def _variants(edition_id: int) -> dict[str, tuple[int, bool]]:
    """Each reader's variant number and whether that variant shows the note."""
    with session_scope() as session:
        rows = session.execute(
            select(Subscriber.email, Delivery.variant, EditionVariant.needs_note)
            .join(Delivery, Delivery.subscriber_id == Subscriber.id)
            .join(
                EditionVariant,
                (EditionVariant.edition_id == Delivery.edition_id)
                & (EditionVariant.number == Delivery.variant),
            )
            .where(Delivery.edition_id == edition_id)
        ).all()
    return {str(address): (int(number), bool(note)) for address, number, note in rows}


def test_only_a_reader_who_chose_a_need_is_told_why_an_untagged_service_is_there(
    db: Any, mail_sink: MailSink
) -> None:
    with session_scope() as session:
        src = source(session)
        change(session, src, "a", "Any Needs Club", at=IN_WINDOW, needs=[])
        change(session, src, "b", "Speech Group", at=IN_WINDOW, needs=[SPEECH])
        subscriber(session, "chose@example.org", needs=[SPEECH])
        subscriber(session, "chose-text@example.org", needs=[SPEECH], format=EmailFormat.TEXT)
        subscriber(session, "all@example.org")
        subscriber(session, "all-text@example.org", format=EmailFormat.TEXT)
    result = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    assert result.reason == "built" and result.recipients == 4
    bodies = _bodies(mail_sink)
    assert set(bodies) == {
        "chose@example.org",
        "chose-text@example.org",
        "all@example.org",
        "all-text@example.org",
    }
    for address in ("chose@example.org", "chose-text@example.org"):
        text, html = bodies[address]
        # Once, beside the service that names no need, not beside the one that does.
        assert text.count(NOTE) == 1, text
        assert text.index("Any Needs Club") < text.index(NOTE) < text.index("Speech Group")
        if address == "chose@example.org":
            assert html is not None and html.count(NOTE) == 1
            assert html.index("Any Needs Club") < html.index(NOTE) < html.index("Speech Group")
        else:
            assert html is None
    for address in ("all@example.org", "all-text@example.org"):
        text, html = bodies[address]
        assert "Any Needs Club" in text and "Speech Group" in text
        assert NOTE not in text and OLD_NOTE not in text
        assert html is None or (NOTE not in html and "Any Needs Club" in html)
    variants = _variants(result.edition_id or 0)
    # Same items, told apart only by the note (and format is not part of a variant).
    assert variants["chose@example.org"] == variants["chose-text@example.org"]
    assert variants["all@example.org"] == variants["all-text@example.org"]
    assert variants["chose@example.org"][1] is True
    assert variants["all@example.org"][1] is False
    assert variants["chose@example.org"][0] != variants["all@example.org"][0]


def test_a_reader_whose_items_all_name_a_need_shares_the_email_without_the_note(
    db: Any, mail_sink: MailSink
) -> None:
    with session_scope() as session:
        src = source(session)
        # For under-fives only: the teenagers below do not get it.
        change(
            session, src, "a", "Toddler Time", at=IN_WINDOW, needs=[], minimum_age=0, maximum_age=4
        )
        change(session, src, "b", "Speech Group", at=IN_WINDOW, needs=[SPEECH])
        # Taken off, and naming no need: a removed service only says it has gone.
        change(session, src, "c", "Old Club", at=IN_WINDOW - dt.timedelta(days=30), needs=[])
        change(session, src, "c", "Old Club", kind=ChangeKind.REMOVED, at=IN_WINDOW, present=False)
        subscriber(session, "teen-chose@example.org", age_bands=["11-16"], needs=[SPEECH])
        subscriber(session, "teen-all@example.org", age_bands=["11-16"])
        subscriber(session, "small-chose@example.org", age_bands=["0-5"], needs=[SPEECH])
    result = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    assert result.recipients == 3
    bodies = _bodies(mail_sink)
    for address in ("teen-chose@example.org", "teen-all@example.org"):
        text, html = bodies[address]
        assert "Speech Group" in text and "Old Club" in text and "Toddler Time" not in text
        assert NOTE not in text and html is not None and NOTE not in html
    text, _ = bodies["small-chose@example.org"]
    assert text.count(NOTE) == 1 and text.index("Toddler Time") < text.index(NOTE)
    variants = _variants(result.edition_id or 0)
    assert variants["teen-chose@example.org"] == variants["teen-all@example.org"]
    assert variants["teen-chose@example.org"][1] is False
    assert variants["small-chose@example.org"][1] is True
    with session_scope() as session:
        count = len(session.scalars(select(EditionVariant.id)).all())
    assert count == 2


def test_a_resumed_build_reuses_the_variants_it_wrote(db: Any) -> None:
    """A build cut short after two readers (one chunk each) is finished by another run:
    the readers after the cut join the variants already written, note and all."""
    with session_scope() as session:
        src = source(session)
        change(session, src, "a", "Any Needs Club", at=IN_WINDOW, needs=[])
        people = [
            subscriber(session, "chose1@example.org", needs=[SPEECH]).id,
            subscriber(session, "all1@example.org").id,
            subscriber(session, "chose2@example.org", needs=["cognition-learning"]).id,
            subscriber(session, "all2@example.org").id,
        ]
    settings = dataclasses.replace(get_settings().editions, build_chunk=1)
    with session_scope() as session:
        built = build_edition(session, Frequency.WEEKLY, now=NOW, settings=settings)
    assert built.reason == "built" and built.recipients == 4
    edition_id = built.edition_id or 0
    whole = _variants(edition_id)
    # Put the edition back as a build that died after its second chunk: the later
    # readers' rows were never written, and nobody renews the heartbeat.
    with session_scope() as session:
        session.execute(delete(Delivery).where(Delivery.subscriber_id.in_(people[2:])))
        session.execute(
            update(Edition)
            .where(Edition.id == edition_id)
            .values(status=EditionStatus.BUILDING, built_through=people[1], heartbeat_at=None)
        )
    with session_scope() as session:
        resumed = resume_build(session, edition_id, settings=settings)
    assert resumed.reason == "resumed" and resumed.recipients == 4
    again = _variants(edition_id)
    assert again == whole
    assert again["chose2@example.org"] == again["chose1@example.org"]
    assert again["chose1@example.org"][1] is True
    assert again["all2@example.org"] == again["all1@example.org"]
    assert again["all1@example.org"][1] is False
    with session_scope() as session:
        assert len(session.scalars(select(EditionVariant.id)).all()) == 2


def test_the_public_page_says_once_which_services_name_no_need(
    db: Any, mail_sink: MailSink
) -> None:
    with session_scope() as session:
        src = source(session)
        change(session, src, "a", "Any Needs Club", at=IN_WINDOW, needs=[])
        change(session, src, "b", "Speech Group", at=IN_WINDOW, needs=[SPEECH])
        change(session, src, "c", "Open Play", at=IN_WINDOW, needs=[])
        subscriber(session, "all@example.org")
    result = editions.run_edition(Frequency.WEEKLY, send_here, now=NOW)
    client = create_app({"TESTING": True}).test_client()
    page = client.get(f"/newsletters/{result.edition_id}").get_data(as_text=True)
    said = "No need is listed for these services, so we include them for everyone:"
    assert page.count(said) == 1 and NOTE not in page
    listed = page[page.index(said) : page.index("</ul>", page.index(said))]
    assert "<li>Any Needs Club</li>" in listed and "<li>Open Play</li>" in listed
    assert "Speech Group" not in listed
    assert page.index(said) < page.index("<h2")
