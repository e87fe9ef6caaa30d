"""Bulletins: written and approved in the console (two-person rule), made safe, put at the
top of the next edition of each frequency once, to those they match; bad input refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher import app_settings
from publisher.db import session_scope
from publisher.models import (
    AuditEvent,
    Bulletin,
    BulletinEdition,
    BulletinState,
    Delivery,
    Frequency,
    Post,
)
from publisher.newsletters import editions, sending
from tests.clock import Clock
from tests.mailsink import MailSink
from tests.newsletters.helpers import change, parse, parts, source, subscriber

pytestmark = pytest.mark.date_sensitive

BODY = """We are changing how short breaks work. Tell us what you think.

- Fill in the [short breaks survey](https://consult.example.gov.uk/short-breaks)
- Come to a meeting in the library

<script>alert("x")</script>"""


def _write(officer: Any, **form: Any) -> Any:
    data = {"title": "Have your say on short breaks", "body": BODY, "link": ""}
    data.update(form)
    return officer.post("/console/bulletins/new", data, page="/console/bulletins/new")


def _only_bulletin(session: Session) -> Bulletin:
    found = session.scalars(select(Bulletin)).all()
    assert len(found) == 1
    return found[0]


def test_write_approve_and_edition_carries_it_once(
    db: Any, sign_in: Any, session: Session, mail_sink: MailSink, clock: Clock
) -> None:
    now = dt.datetime.now(dt.UTC)
    app_settings.save(session, None, {"social.two_person_rule": True})
    src = source(session)
    change(
        session,
        src,
        "a",
        "Riverside Youth Club",
        at=now - dt.timedelta(hours=1),
        minimum_age=16,
        maximum_age=25,
    )
    subscriber(session, "teen@example.org", age_bands=["16-25"])
    subscriber(session, "little@example.org", age_bands=["0-5"])
    subscriber(session, "daily@example.org", frequency=Frequency.DAILY)
    session.commit()
    editor, approver = sign_in("editor"), sign_in("approver")

    answer = _write(editor, age_bands=["16-25", "5-11"])
    assert answer.status_code == 303
    b = _only_bulletin(session)
    assert b.state is BulletinState.DRAFT
    assert "<script" not in b.body_html and "alert" not in b.body_html
    assert '<a href="https://consult.example.gov.uk/short-breaks"' in b.body_html
    assert b.audience["age_bands"] == ["5-11", "16-25"]

    # The editor cannot approve; the approver who did not write it can.
    assert (
        editor.post(f"/console/bulletins/{b.id}/approve", {"action": "approve"}).status_code == 403
    )
    page = approver.get(f"/console/bulletins/{b.id}")
    assert b"Plain English check" in page.data
    answer = approver.post(
        f"/console/bulletins/{b.id}/approve",
        {"action": "approve"},
        page=f"/console/bulletins/{b.id}",
    )
    assert answer.status_code == 303
    session.expire_all()
    assert _only_bulletin(session).state is BulletinState.APPROVED
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "bulletin")
    ).all()
    assert actions == ["bulletin.create", "bulletin.approve"]

    sent_to: list[int] = []

    def send_here(edition_id: int, ids: list[int]) -> None:
        sent_to.extend(ids)
        sending.send_batch(edition_id, ids)

    now = dt.datetime.now(dt.UTC)  # after the approval, however long that took
    clock.set(now + dt.timedelta(seconds=1))
    result = editions.run_edition(Frequency.WEEKLY, send_here, close_now=True)
    sending.reset_process_state()
    assert result.reason == "built"
    got = {m.rcpt_tos[0]: parse(m.data) for m in mail_sink.messages}
    # The 16-25 subscriber matches; the 0-5 one is not in the audience and has no news.
    assert set(got) == {"teen@example.org"}
    text, html = parts(got["teen@example.org"])
    assert text.index("From the Local Offer team") < text.index("Riverside Youth Club")
    assert "short breaks survey" in text
    assert "(https://consult.example.gov.uk/short-breaks)" in text
    assert html is not None and "<script" not in html
    assert "1 message from the Local Offer team" in str(got["teen@example.org"]["Subject"])

    # The next weekly edition does not carry it again; the daily edition carries it once.
    clock.set(now + dt.timedelta(seconds=10))
    again = editions.run_edition(Frequency.WEEKLY, send_here, close_now=True)
    assert again.recipients == 0
    daily = editions.run_edition(Frequency.DAILY, send_here, close_now=True)
    assert daily.recipients == 1  # the daily subscriber chose everything
    daily2 = editions.run_edition(
        Frequency.DAILY, send_here, now=now + dt.timedelta(seconds=20), close_now=True
    )
    assert daily2.recipients == 0
    with session_scope() as s:
        taken = s.execute(
            select(BulletinEdition.frequency, func.count()).group_by(BulletinEdition.frequency)
        ).all()
        assert {f: n for f, n in taken} == {Frequency.WEEKLY: 1, Frequency.DAILY: 1}
        assert s.scalar(select(func.count()).select_from(Delivery)) == 2


def test_bad_input_gets_clear_answers_and_changes_nothing(
    db: Any, sign_in: Any, session: Session
) -> None:
    editor = sign_in("editor")
    cases: list[tuple[dict[str, Any], list[bytes]]] = [
        ({"title": "", "body": ""}, [b"Enter a title.", b"Enter what you want to tell families."]),
        ({"body": "x" * 6000}, [b"must be 5,000 characters or fewer"]),
        ({"body": "<script>alert(1)</script>"}, [b"nothing left to show"]),
        ({"link": "javascript:alert(1)"}, [b"Enter a web address that starts with https://"]),
        ({"age_bands": ["99-100"]}, [b"Choose an age group from the list."]),
    ]
    for form, messages in cases:
        answer = _write(editor, **form)
        assert answer.status_code == 400, form
        for message in messages:
            assert message in answer.data, (form, message)
    assert session.scalar(select(func.count()).select_from(Bulletin)) == 0
    bulletin_events = select(func.count()).where(AuditEvent.object_type == "bulletin")
    assert session.scalar(bulletin_events) == 0


def test_approval_makes_social_drafts_and_withdrawal_stops_editions(
    db: Any, sign_in: Any, session: Session
) -> None:
    from tests.console.conftest import make_account

    make_account(session)
    session.commit()
    editor, approver = sign_in("editor"), sign_in("approver")
    _write(editor, link="https://consult.example.gov.uk/short-breaks")
    b = _only_bulletin(session)
    approver.post(
        f"/console/bulletins/{b.id}/approve",
        {"action": "approve"},
        page=f"/console/bulletins/{b.id}",
    )
    posts = session.scalars(select(Post)).all()
    assert len(posts) == 1 and posts[0].kind == "bulletin"
    assert "Have your say on short breaks" in posts[0].text
    assert posts[0].link == "https://consult.example.gov.uk/short-breaks"
    answer = approver.post(
        f"/console/bulletins/{b.id}/withdraw", {}, page=f"/console/bulletins/{b.id}"
    )
    assert answer.status_code == 303
    session.expire_all()
    assert _only_bulletin(session).state is BulletinState.WITHDRAWN
    assert session.scalars(select(Post)).one().state.value == "withdrawn"
    with session_scope() as s:
        from publisher.bulletins.editions import bulletin_items

        assert bulletin_items(s, Frequency.WEEKLY, dt.datetime.now(dt.UTC)) == []


def test_approved_bulletin_is_a_feed_item_in_matching_topic_feeds(
    db: Any, sign_in: Any, session: Session, app: Any
) -> None:
    from publisher.feeds import service

    src = source(session)
    change(session, src, "a", "Riverside Youth Club", minimum_age=16, maximum_age=25)
    session.commit()
    service.rebuild_feeds()
    client = app.test_client()
    before = client.get("/feeds/changes.atom")
    editor, approver = sign_in("editor"), sign_in("approver")
    _write(editor, age_bands=["16-25"], link="https://consult.example.gov.uk/short-breaks")
    b = _only_bulletin(session)
    approver.post(
        f"/console/bulletins/{b.id}/approve",
        {"action": "approve"},
        page=f"/console/bulletins/{b.id}",
    )
    service.rebuild_feeds()  # what the task queued after the approval does
    everything = client.get("/feeds/changes.atom")
    assert everything.headers["ETag"] != before.headers["ETag"]
    assert b"From the Local Offer team: Have your say on short breaks" in everything.data
    assert f"bulletin-{b.id}".encode() in everything.data
    assert b"alert" not in everything.data
    assert b"Have your say" in client.get("/feeds/changes.json?age=16-25").data
    assert b"Have your say" not in client.get("/feeds/changes.rss?age=0-5").data
    # Every category: the bulletin named none.
    assert b"Have your say" in client.get("/feeds/changes.rss?category=health").data


def test_monthly_did_you_know_section_never_sends_an_email_alone(
    db: Any, session: Session, mail_sink: MailSink, clock: Clock
) -> None:
    from tests.factories import make_entry

    now = dt.datetime.now(dt.UTC)
    src = source(session)
    make_entry(session, src, "old", "Sensory Garden", minimum_age=0, maximum_age=11)
    change(
        session,
        src,
        "a",
        "Riverside Youth Club",
        at=now - dt.timedelta(hours=1),
        minimum_age=16,
        maximum_age=25,
    )
    subscriber(session, "all@example.org", frequency=Frequency.MONTHLY)
    subscriber(session, "little@example.org", age_bands=["0-5"], frequency=Frequency.MONTHLY)
    app_settings.save(session, None, {"newsletters.did_you_know": True})
    session.commit()
    clock.set(now + dt.timedelta(seconds=1))

    def send_here(edition_id: int, ids: list[int]) -> None:
        sending.send_batch(edition_id, ids)

    result = editions.run_edition(Frequency.MONTHLY, send_here, close_now=True)
    # The 0-5 subscriber would match the Did you know? entry, but it is not news alone.
    assert result.recipients == 1
    [message] = mail_sink.messages
    text, _ = parts(parse(message.data))
    assert message.rcpt_tos == ["all@example.org"]
    assert text.index("Riverside Youth Club") < text.index("Did you know?")
    assert text.index("Did you know?") < text.index("Sensory Garden")
    assert "Follow this service:" in text


def test_drafted_posts_get_plain_english_advice_too(sign_in: Any, draft: Post) -> None:
    page = sign_in("editor").get(f"/console/posts/{draft.id}")
    assert page.status_code == 200
    assert b"Plain English check" in page.data and b"Reading age" in page.data


def test_advice_names_jargon_and_never_blocks(sign_in: Any, session: Session) -> None:
    editor = sign_in("editor")
    advice = editor.post(
        "/console/advice",
        {"text": "Your EHCP provision was reviewed by the local authority."},
        page="/console/bulletins/new",
    ).get_json()
    assert {j["word"] for j in advice["jargon"]} >= {"EHCP", "provision", "local authority"}
    assert advice["passive"] == ["was reviewed"]
    saved = _write(editor, body="Your EHCP provision was reviewed by the local authority.")
    assert saved.status_code == 303  # advice only
