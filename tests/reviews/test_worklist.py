"""The officers' "Provider replies" worklist: what it lists, the field-by-field difference,
the two audited actions, the filters, the CSV, and asking from the stale report."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from publisher.models import AuditEvent, ReplyKind, Review, ReviewStatus
from publisher.reviews.replies import Found, needs_change, still_correct
from publisher.reviews.sending import run_daily

pytestmark = pytest.mark.date_sensitive


@pytest.fixture()
def answered(session, directory, mail_sink):
    """a1 confirmed, b1 changed (with a formula in the note), c1 unanswered."""
    run_daily()
    reviews = {r.entry_id: r for r in session.scalars(select(Review))}
    still_correct(session, _found(session, reviews["a1"]))
    needs_change(
        session,
        _found(session, reviews["b1"]),
        {
            "name": "Speech and language help",
            "description": "About Speech help.",
            "minimum_age": "2",
            "maximum_age": "",
            "email": "",
            "phone": "",
            "website": "https://provider.example.org/b1",
            "cost": "",
            "times": "",
        },
        '=HYPERLINK("http://evil.example")',
    )
    session.commit()
    return reviews


def _found(session, review: Review) -> Found:
    from publisher.models import Entry, Source

    entry = session.get(Entry, review.entry_pk)
    return Found(review, entry, session.get(Source, review.source_id), review.address or "")


def test_worklist_lists_replies_with_a_field_by_field_difference(answered, sign_in):
    officer = sign_in("editor")
    page = officer.get("/console/replies")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Swim club: Still correct" in html and "team@provider-a.example" in html
    assert "Speech help: Needs changing" in html
    assert (
        '<th scope="row">Name of the service</th><td class="diff-old">Speech help</td>'
        '<td class="diff-new">Speech and language help</td>' in html
    )
    assert "Youngest age" in html
    # A review still waiting for its first answer is not on the worklist.
    assert "Play scheme" not in html
    only = officer.get("/console/replies?kind=still_correct").get_data(as_text=True)
    assert "Swim club" in only and "Speech help:" not in only
    assert "Swim club" not in officer.get("/console/replies?age=7").get_data(as_text=True)
    assert "Swim club" not in officer.get("/console/replies?source=south").get_data(as_text=True)


def test_updated_and_dismiss_close_the_reply_and_are_audited(answered, sign_in, session):
    officer = sign_in("editor")
    a1, b1 = answered["a1"].id, answered["b1"].id
    done = officer.post(f"/console/replies/{a1}/updated", page="/console/replies")
    assert done.status_code == 302
    refused = officer.post(
        f"/console/replies/{b1}/dismiss",
        {"reason": "  "},
        page="/console/replies",
        follow_redirects=True,
    )
    assert "Say why you are dismissing" in refused.get_data(as_text=True)
    officer.post(
        f"/console/replies/{b1}/dismiss",
        {"reason": "Provider sent this twice"},
        page="/console/replies",
    )
    session.expire_all()
    assert session.get(Review, a1).status is ReviewStatus.CLOSED
    b1_review = session.get(Review, b1)
    assert b1_review.status is ReviewStatus.CLOSED
    assert b1_review.closed_reason == "Dismissed: Provider sent this twice"
    actions = {e.action: e for e in session.scalars(select(AuditEvent))}
    assert actions["review.updated"].actor_email == "editor@council.example"
    assert actions["review.dismissed"].after["closed_reason"] == (
        "Dismissed: Provider sent this twice"
    )
    # Twice is harmless.
    again = officer.post(
        f"/console/replies/{a1}/updated", page="/console/replies", follow_redirects=True
    )
    assert "already dealt with" in again.get_data(as_text=True)


def test_csv_export_guards_against_formulas(answered, sign_in):
    body = sign_in("editor").get("/console/replies.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    changed = [r for r in rows if r["entry id"] == "b1"]
    assert {r["field"] for r in changed} == {"Name of the service", "Youngest age"}
    assert all(r["provider's note"].startswith("'=HYPERLINK") for r in changed)
    assert [r["reply"] for r in rows if r["entry id"] == "a1"] == ["Still correct"]


def test_officer_asks_providers_of_chosen_stale_entries(directory, sign_in, session, mail_sink):
    officer = sign_in("editor")
    page = officer.get("/console/stale").get_data(as_text=True)
    assert 'name="entry"' in page and "Not asked yet" in page
    assert "No contact address: find one for this provider" in page  # n1
    done = officer.post(
        "/console/stale/ask",
        {"entry": [str(directory["a1"].id)]},
        page="/console/stale",
        follow_redirects=True,
    )
    assert "Sent 1 email about 1 entry" in done.get_data(as_text=True)
    assert list(mail_sink.by_recipient()) == ["team@provider-a.example"]
    after = officer.get("/console/stale").get_data(as_text=True)
    assert "Asked on 16 Jun 2026" in after and "Requests sent: 1" in after
    nothing = officer.post("/console/stale/ask", {}, page="/console/stale", follow_redirects=True)
    assert "Tick at least one entry" in nothing.get_data(as_text=True)


def test_stale_report_counts_replies_and_confirmations(answered, sign_in):
    html = sign_in("editor").get("/console/stale").get_data(as_text=True)
    assert "Still correct: 1" in html and "Needs changing: 1" in html
    assert "Confirmed by provider" in html
    assert "Median time to reply: 0.0 days" in html
    assert ReplyKind.STILL_CORRECT.label in html
