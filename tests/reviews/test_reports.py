"""Parents' "Is this wrong? Tell us": the link in newsletters, the public form (CSRF,
honeypot, length caps, a per-client limit in Redis), the worklist, and 28-day erasure."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from publisher.config import reset_settings
from publisher.models import ChangeKind, Frequency, ProblemReport, ReviewStatus
from publisher.newsletters.items import collapse
from publisher.newsletters.rendering import edition_view
from publisher.reviews.reports import erase_old_emails
from publisher.web import create_app
from tests.conftest import TEST_REDIS_URL
from tests.factories import record_change

pytestmark = pytest.mark.date_sensitive
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def change_id(session, directory) -> int:
    change = record_change(session, directory["f1"], ChangeKind.ADDED)
    session.commit()
    return change.id


@pytest.fixture()
def client(db, redis_prefix, monkeypatch):
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    reset_settings()
    app = create_app({"TESTING": True, "SUBSCRIPTIONS_KEY_PREFIX": redis_prefix})
    return app.test_client()


def _post(client, change_id: int, **data: str):
    page = client.get(f"/report/{change_id}")
    found = TOKEN.search(page.get_data(as_text=True))
    assert found is not None
    token = found.group(1)
    return client.post(f"/report/{change_id}", data={"csrf_token": token, **data})


def test_newsletter_items_carry_the_report_link(session, change_id):
    from publisher.models import Change

    items = collapse([session.get(Change, change_id)])
    view = edition_view(
        1, Frequency.WEEKLY, dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC), items
    )
    text, html = view.fragment(0, False)
    assert f"Is this wrong? Tell us: http://127.0.0.1:8000/report/{change_id}" in text
    assert f'href="http://127.0.0.1:8000/report/{change_id}"' in html


def test_a_parent_reports_a_problem_and_it_joins_the_worklist(client, change_id, session, sign_in):
    form = client.get(f"/report/{change_id}").get_data(as_text=True)
    assert "Is something wrong with Service f1?" in form
    refused = _post(client, change_id, what="other", details="x" * 3000, email="nope")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Tell us in 2000 characters or fewer" in html and "Enter an email address" in html
    done = _post(
        client, change_id, what="closed", details="It shut in May.", email="Parent@Example.org"
    )
    assert done.status_code == 200 and "Thank you for telling us" in done.get_data(as_text=True)
    report = session.scalars(select(ProblemReport)).one()
    assert (report.what, report.details, report.reporter_email) == (
        "closed",
        "It shut in May.",
        "parent@example.org",
    )
    officer = sign_in("editor")
    page = officer.get("/console/replies").get_data(as_text=True)
    assert "Service f1: The service has closed" in page and "It shut in May." in page
    officer.post(
        f"/console/reports/{report.id}/close", {"outcome": "fixed"}, page="/console/replies"
    )
    session.expire_all()
    assert session.get(ProblemReport, report.id).status is ReviewStatus.CLOSED


def test_honeypot_csrf_and_rate_limit(client, change_id, session):
    robot = _post(client, change_id, what="closed", website="http://spam.example")
    assert robot.status_code == 200 and session.scalars(select(ProblemReport)).all() == []
    no_token = client.post(f"/report/{change_id}", data={"what": "closed"})
    assert no_token.status_code == 400
    for _ in range(9):
        _post(client, change_id, what="contact")
    limited = _post(client, change_id, what="contact")
    assert limited.status_code == 429
    assert len(session.scalars(select(ProblemReport)).all()) == 9
    assert client.get("/report/999999").status_code == 404


def test_reporters_addresses_are_erased_after_28_days(session, directory, clock):
    session.add(
        ProblemReport(
            entry_pk=directory["a1"].id, what="other", details="x", reporter_email="p@example.org"
        )
    )
    session.commit()
    assert erase_old_emails(session) == 0
    clock.move(dt.timedelta(days=29))
    assert erase_old_emails(session) == 1
    session.commit()
    assert session.scalars(select(ProblemReport.reporter_email)).one() is None
