"""In a real browser (Debian's Chromium): a provider opens the links from their email,
confirms one entry and reports a change to another; the officer sees both in "Provider
replies". axe-core checks every page (and the email's HTML) for WCAG 2.2 AA violations,
at 1280 and 320 pixels wide."""

from __future__ import annotations

import re

import pytest

from publisher.reviews.sending import run_daily
from tests.browser import assert_accessible
from tests.console.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.date_sensitive]
LINE = re.compile(r"^(.+)\nCheck it here: http://127\.0\.0\.1:8000(\S+)$", re.M)


def test_provider_confirms_one_reports_a_change_and_the_officer_sees_both(
    browser, live_app, app, officers, directory, mail_sink
):
    run_daily()
    email = mail_sink.by_recipient()["team@provider-a.example"][0].message
    text = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    links = dict(LINE.findall(text))
    server = live_app(app)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_content(email.get_body(("html",)).get_content())
    assert_accessible(page)

    # Swim club: still correct.
    page.goto(server.url + links["Swim club"])
    assert_accessible(page)
    page.get_by_role("button", name="This is still correct").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    assert_accessible(page)

    # Art club: something needs changing, with a mistake first.
    page.get_by_role("link", name="Check Art club").click()
    page.get_by_role("button", name="Something needs changing").click()
    assert_accessible(page)
    page.get_by_label("Youngest age").fill("30")
    page.get_by_label("Oldest age").fill("4")
    page.get_by_role("button", name="Send changes").click()
    page.get_by_role("heading", name="There is a problem").wait_for()
    assert_accessible(page)
    page.get_by_label("Youngest age").fill("8")
    page.get_by_label("Oldest age").fill("14")
    page.get_by_label("Anything else we should know").fill("We now run on Saturdays too.")
    page.get_by_role("button", name="Send changes").click()
    page.get_by_text("We have your changes").wait_for()
    assert_accessible(page)

    # The same pages on a small phone screen.
    narrow = browser.new_context(viewport={"width": 320, "height": 640}).new_page()
    narrow.goto(server.url + links["Art club"])
    assert "already told us" in narrow.content()
    assert_accessible(narrow)
    assert narrow.evaluate("document.documentElement.scrollWidth") <= 320

    # The officer sees both replies.
    page.goto(f"{server.url}/console/login")
    page.get_by_label("Email").fill("editor@council.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{server.url}/console/replies")
    assert_accessible(page)
    page.get_by_role("heading", name="Swim club: Still correct").wait_for()
    page.get_by_role("heading", name="Art club: Needs changing").wait_for()
    table = page.get_by_role("table", name="What the provider changed")
    assert "Youngest age" in table.inner_text() and "8" in table.inner_text()
    page.get_by_role("button", name=re.compile(r"Updated in the directory\s+for Art club")).click()
    page.get_by_text("Done: Updated in the directory").wait_for()
    assert_accessible(page)
    assert "Art club: Needs changing" not in page.content()
    context.close()


def test_parents_report_form_in_the_browser(
    browser, live_app, db, directory, session, redis_prefix, monkeypatch
):
    from publisher.config import reset_settings
    from publisher.models import ChangeKind, ProblemReport
    from publisher.web import create_app
    from tests.conftest import TEST_REDIS_URL
    from tests.factories import record_change

    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    reset_settings()
    change = record_change(session, directory["f1"], ChangeKind.ADDED)
    session.commit()
    server = live_app(create_app({"TESTING": True, "SUBSCRIPTIONS_KEY_PREFIX": redis_prefix}))
    for width in (1280, 320):
        page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
        page.goto(f"{server.url}/report/{change.id}")
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="There is a problem").wait_for()
    assert_accessible(page)
    page.get_by_label("The contact details are wrong").check()
    page.get_by_label("Tell us more (optional)").fill("The phone number does not work.")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Thank you for telling us").wait_for()
    assert_accessible(page)
    session.expire_all()
    report = session.query(ProblemReport).one()
    assert (report.what, report.details) == ("contact", "The phone number does not work.")
