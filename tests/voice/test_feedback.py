""" "You said, we did": the public form (CSRF, honeypot, caps, a flood stopped per client),
officers answer and publish, the public page and feed show the pair without personal data,
contact addresses go after 28 days unless kept, and a year exports safely."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.config import reset_settings
from publisher.db import session_scope, utcnow
from publisher.feedback import service
from publisher.models import AuditEvent, Feedback, FeedbackState
from publisher.web import create_app
from tests.conftest import TEST_REDIS_URL

# Dates worked out from now: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def public(db: Any, redis_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    reset_settings()
    return create_app(
        {"TESTING": True, "SUBSCRIPTIONS_KEY_PREFIX": redis_prefix, "FEEDBACK_LIMIT_PER_CLIENT": 4}
    )


def _send(client: Any, **form: Any) -> Any:
    page = client.get("/you-said-we-did/tell-us")
    found = TOKEN.search(page.get_data(as_text=True))
    assert found
    data = {"csrf_token": found.group(1), "topic": "missing", "words": "No 16-25 section."}
    data.update(form)
    return client.post("/you-said-we-did/tell-us", data=data)


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Feedback)) or 0)


def test_submit_answer_publish_and_show_without_personal_data(
    public: Flask, sign_in: Any, session: Session
) -> None:
    client = public.test_client()
    answer = _send(
        client,
        words="There is no 16-25 section <script>alert(1)</script>",
        contact_email="Mum@Example.org",
        consent_to_publish="yes",
        age_band="16-25",
    )
    assert answer.status_code == 303
    f = session.scalars(select(Feedback)).one()
    assert f.contact_email == "mum@example.org" and f.consent_to_publish
    editor, approver = sign_in("editor"), sign_in("approver")
    page = f"/console/feedback/{f.id}"
    assert b"mum@example.org" in editor.get(page).data  # officers see it, to reply
    assert editor.post(f"{page}/publish", {}, page=page).status_code == 403
    editor.post(
        page,
        {"you_said": f.words, "response": "You are right.", "action": "We added a 16-25 page."},
        page=page,
    )
    assert approver.post(f"{page}/publish", {}, page=page).status_code == 303
    session.expire_all()
    assert session.get(Feedback, f.id).state is FeedbackState.PUBLISHED  # type: ignore[union-attr]
    shown = client.get("/you-said-we-did/")
    assert b"We added a 16-25 page." in shown.data
    assert b"&lt;script&gt;" in shown.data and b"<script>alert" not in shown.data
    assert b"mum@example.org" not in shown.data
    quarter = service.quarter(utcnow()).encode()
    assert quarter in shown.data
    feed = client.get("/you-said-we-did/feed.atom")
    assert feed.status_code == 200 and b"We added a 16-25 page." in feed.data
    assert b"mum@example.org" not in feed.data
    events = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "feedback")).all()
    assert [e.action for e in events] == ["feedback.respond", "feedback.publish"]
    assert all("mum@example.org" not in str(e.after) for e in events)


def test_words_without_consent_are_not_published(
    public: Flask, sign_in: Any, session: Session
) -> None:
    client = public.test_client()
    _send(client, words="My son Tom at Oak School was refused.")
    f = session.scalars(select(Feedback)).one()
    editor = sign_in("approver")
    page = f"/console/feedback/{f.id}"
    refused = editor.post(page, {"you_said": "", "response": "Sorry."}, page=page)
    assert refused.status_code == 400 and b"write a short summary instead" in refused.data
    editor.post(page, {"you_said": "A school place was refused.", "response": "Sorry."}, page=page)
    editor.post(f"{page}/publish", {}, page=page)
    shown = client.get("/you-said-we-did/").data
    assert b"A school place was refused." in shown and b"Tom" not in shown


def test_bad_input_and_flood_get_clear_answers(public: Flask, session: Session) -> None:
    client = public.test_client()
    cases: list[tuple[dict[str, Any], bytes]] = [
        ({"words": ""}, b"Tell us what you think."),
        ({"words": "x" * 2001}, b"2,000 characters or fewer"),
        ({"topic": "nope"}, b"Choose what your comment is about."),
        ({"contact_email": "not-an-address"}, b"email"),
    ]
    for form, message in cases:
        answer = _send(client, **form)
        assert answer.status_code == 400 and message in answer.data, form
    assert _count(session) == 0
    # The 5th try in the hour is refused, whatever it says (the limit is 4 here).
    assert _send(client).status_code == 429
    other = public.test_client()
    assert _send(other, website="http://spam.example").status_code == 429  # same address
    assert _count(session) == 0
    no_token = other.post("/you-said-we-did/tell-us", data={"topic": "missing", "words": "x"})
    assert no_token.status_code == 400


def test_contact_addresses_go_after_28_days_unless_kept(db: Any) -> None:
    old = utcnow() - dt.timedelta(days=29)
    with session_scope() as s:
        for email, keep in (("a@example.org", False), ("b@example.org", True)):
            s.add(
                Feedback(
                    created_at=old,
                    topic="other",
                    words="x",
                    contact_email=email,
                    keep_contact=keep,
                    consent_to_publish=False,
                )
            )
        s.add(
            Feedback(
                created_at=utcnow(),
                topic="other",
                words="x",
                contact_email="c@example.org",
                keep_contact=False,
                consent_to_publish=False,
            )
        )
    with session_scope() as s:
        assert service.erase_old_contacts(s) == 1
    with session_scope() as s:
        left = sorted(e for e in s.scalars(select(Feedback.contact_email)) if e)
        assert left == ["b@example.org", "c@example.org"]


def test_year_export_guards_against_formulas(db: Any, sign_in: Any, session: Session) -> None:
    now = utcnow()
    session.add(
        Feedback(
            created_at=now,
            topic="wrong",
            words='=HYPERLINK("http://x")',
            consent_to_publish=True,
            state=FeedbackState.PUBLISHED,
            response="+1 agreed",
            action="@SUM(A1)",
            published_at=now,
        )
    )
    session.commit()
    admin = sign_in("admin")
    got = admin.get(f"/console/feedback/export.csv?year={now.year}")
    assert got.status_code == 200
    rows = list(csv.reader(io.StringIO(got.get_data(as_text=True))))
    assert rows[1][2:] == ['\'=HYPERLINK("http://x")', "'+1 agreed", "'@SUM(A1)"]
    printable = admin.get(f"/console/feedback/export.html?year={now.year}")
    assert b"You said, we did, " + str(now.year).encode() in printable.data
    assert sign_in("editor").get(f"/console/feedback/export.csv?year={now.year}").status_code == 403
    assert admin.get("/console/feedback/export.csv?year=abc").status_code == 303


def test_published_answers_go_to_those_who_asked_once_per_frequency(
    db: Any, session: Session, clock: Any, mail_sink: Any
) -> None:
    from publisher.models import Frequency
    from publisher.newsletters import editions, sending
    from publisher.subscriptions.preferences import Choice, parse_choice
    from tests.newsletters.helpers import parse, parts, subscriber

    choice = parse_choice({"you_said_we_did": "yes"})
    assert choice.you_said_we_did and choice.as_json()["you_said_we_did"] is True
    assert "you_said_we_did" not in Choice().as_json()  # older records look the same
    asked = subscriber(session, "asked@example.org")
    asked.you_said_we_did = True
    subscriber(session, "not-asked@example.org")
    now = utcnow()
    session.add(
        Feedback(
            created_at=now,
            topic="missing",
            words="No 16-25 page.",
            consent_to_publish=True,
            state=FeedbackState.PUBLISHED,
            response="You were right.",
            action="We made one.",
            published_at=now,
        )
    )
    session.commit()
    clock.set(now + dt.timedelta(seconds=1))

    def send_here(edition_id: int, ids: list[int]) -> None:
        sending.send_batch(edition_id, ids)

    first = editions.run_edition(Frequency.WEEKLY, send_here, close_now=True)
    clock.set(now + dt.timedelta(seconds=2))
    again = editions.run_edition(Frequency.WEEKLY, send_here, close_now=True)
    assert first.recipients == 1 and again.recipients == 0
    [message] = mail_sink.messages
    assert message.rcpt_tos == ["asked@example.org"]
    text, _ = parts(parse(message.data))
    assert "You said, we did" in text and "We did: We made one." in text
