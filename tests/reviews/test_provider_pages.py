"""What providers see: the email's links, the page, the three answers, the change form's
checks, "stop emailing me", and links that are forged, expired or used twice."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from publisher.models import ReplyKind, Review, ReviewSuppression
from publisher.reviews.sending import run_daily
from publisher.web import create_app

pytestmark = pytest.mark.date_sensitive
LINK = re.compile(r"http://127\.0\.0\.1:8000(/check/[A-Za-z0-9._-]+)")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def links(session, directory, mail_sink) -> dict[str, str]:
    """Entry name -> the path of its link, from the emails as received."""
    run_daily()
    out: dict[str, str] = {}
    for received in mail_sink.messages:
        text = received.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        for name, path in re.findall(
            r"^(.+)\nCheck it here: http://127\.0\.0\.1:8000(\S+)$", text, re.M
        ):
            out[name] = path
    return out


@pytest.fixture()
def client(db):
    return create_app({"TESTING": True}).test_client()


def csrf(client, path: str) -> str:
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    return found.group(1)


def review_of(session, entry_id: str) -> Review:
    session.expire_all()
    return session.scalars(select(Review).where(Review.entry_id == entry_id)).one()


def test_the_page_shows_the_entry_and_three_choices_without_changing_anything(
    client, links, session
):
    page = client.get(links["Swim club"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Swim club" in html and "team@provider-a.example" in html.lower()
    for button in ("This is still correct", "Something needs changing", "This service has closed"):
        assert button in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    # Only looking (as a mail scanner does) answers nothing.
    assert review_of(session, "a1").reply is ReplyKind.NONE


def test_still_correct_then_the_link_is_used_up(client, links, session):
    path = links["Swim club"]
    token = csrf(client, path)
    done = client.post(f"{path}/correct", data={"csrf_token": token})
    assert done.status_code == 200 and "still correct" in done.get_data(as_text=True)
    # The other entry of the same provider is offered next.
    assert "Check Art club" in done.get_data(as_text=True)
    review = review_of(session, "a1")
    assert review.reply is ReplyKind.STILL_CORRECT
    assert review.replied_from == "team@provider-a.example" and review.replied_at is not None
    again = client.post(f"{path}/closed", data={"csrf_token": token})
    assert again.status_code == 409 and "already told us" in again.get_data(as_text=True)
    assert review_of(session, "a1").reply is ReplyKind.STILL_CORRECT


def test_an_answer_without_the_form_token_changes_nothing(client, links, session):
    refused = client.post(f"{links['Swim club']}/closed", data={})
    assert refused.status_code == 400
    assert review_of(session, "a1").reply is ReplyKind.NONE


def test_forged_and_expired_links_get_a_clear_page(client, links, session, clock):
    path = links["Speech help"]
    forged = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    page = client.get(forged)
    assert page.status_code == 404 and "This link does not work" in page.get_data(as_text=True)
    # A well-signed link for another address's review (ids are guessable) is refused too.
    from publisher.reviews.links import make_token

    other = review_of(session, "a1")
    assert client.get(f"/check/{make_token(other.id, 'office@b.example')}").status_code == 404
    clock.move(dt.timedelta(days=61))
    token_page = client.get(path)
    assert token_page.status_code == 410 and "run out" in token_page.get_data(as_text=True)
    assert review_of(session, "b1").reply is ReplyKind.NONE


def test_change_form_is_prefilled_and_checks_each_field(client, links, session):
    path = f"{links['Play scheme']}/change"
    form = client.get(path).get_data(as_text=True)
    assert 'value="Play scheme"' in form
    token = _token(form)
    bad = client.post(
        path,
        data={
            "csrf_token": token,
            "name": "Play scheme",
            "description": "x" * 1_000_000,
            "minimum_age": "30",
            "maximum_age": "4",
            "email": "not an address",
            "website": "javascript:alert(1)",
        },
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "What the service does must be 5000 characters or fewer" in html
    assert "Youngest age must be a whole number from 0 to 25" in html
    assert "Enter an email address like name@example.org" in html
    assert "Enter a website address starting with https://" in html
    assert review_of(session, "c1").reply is ReplyKind.NONE
    ages = client.post(
        path,
        data={"csrf_token": token, "name": "Play scheme", "minimum_age": "12", "maximum_age": "4"},
    )
    assert "Oldest age must be the same as or more than the youngest age" in ages.get_data(
        as_text=True
    )
    nothing = client.post(path, data={"csrf_token": token, **_current(form)})
    assert nothing.status_code == 400 and "You have not changed anything" in nothing.get_data(
        as_text=True
    )
    good = client.post(
        path,
        data={
            **_current(form),
            "csrf_token": token,
            "minimum_age": "5",
            "maximum_age": "11",
            "note": "We moved to the church hall.",
        },
    )
    assert good.status_code == 200 and "We have your changes" in good.get_data(as_text=True)
    review = review_of(session, "c1")
    assert review.reply is ReplyKind.NEEDS_CHANGE
    assert review.reply_fields == {"minimum_age": "5", "maximum_age": "11"}
    assert review.directory_fields == {"minimum_age": "", "maximum_age": ""}
    assert review.reply_note == "We moved to the church hall."


def _current(form_html: str) -> dict[str, str]:
    """The form's prefilled values, as a browser would send them untouched."""
    import html as htmlmod

    values = {
        m.group(1): htmlmod.unescape(m.group(2))
        for m in re.finditer(r'<input [^>]*name="(\w+)" value="([^"]*)"', form_html)
        if m.group(1) != "csrf_token"
    }
    for m in re.finditer(r'<textarea id="\w+" name="(\w+)"[^>]*>([^<]*)</textarea>', form_html):
        values[m.group(1)] = htmlmod.unescape(m.group(2))
    return values


def test_stop_emailing_me_suppresses_the_address(client, links, session):
    path = f"{links['Swim club']}/stop"
    page = client.get(path)
    assert "team@provider-a.example" in page.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": _token(page.get_data(as_text=True))})
    assert done.status_code == 200
    assert session.get(ReviewSuppression, "team@provider-a.example").reason == "stop"
    assert {review_of(session, e).reply for e in ("a1", "a2")} == {ReplyKind.STOP}


def test_closed_reply_holds_the_entry(client, links, session):
    from publisher.reviews.holds import held_entry_pks

    path = links["Speech help"]
    client.post(f"{path}/closed", data={"csrf_token": csrf(client, path)})
    assert held_entry_pks(session) == {review_of(session, "b1").entry_pk}


def _token(html: str) -> str:
    found = TOKEN.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def test_the_change_form_shows_opening_times_as_the_change_log_tells_them(session):
    """The form a provider corrects starts from the same plain line as the change log:
    the stored line, or, for an entry stored before it was kept, the record's schedules."""
    from publisher.reviews.replies import directory_values
    from tests.factories import make_entry, make_source

    source = make_source(session)
    schedules = [
        {"weekday": day, "opens_at": "09:30:00", "closes_at": "17:00:00"}
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
    ]
    stored = make_entry(
        session, source, "t1", "Stay and play", opening_times="Monday, midday to 2pm"
    )
    older = make_entry(session, source, "t2", "Holiday club", opening_times=None)
    older.record = {"id": "t2", "regular_schedules": schedules}
    assert directory_values(stored)["times"] == "Monday, midday to 2pm"
    assert directory_values(older)["times"] == "Monday to Friday, 9:30am to 5pm"
