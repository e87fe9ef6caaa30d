"""Issue 14 in a real browser (Debian's Chromium) with axe-core on every new page: a
bulletin written (with plain English advice as the editor types), approved by someone
else, and seen at the top of an edition in the local outbox; the sign-up form embedded in
a page served from another loopback origin, and refused by one that is not allowed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.models import Bulletin, Frequency, Subscriber, SubscriberStatus
from publisher.newsletters import editions, sending
from publisher.web import create_app
from tests.browser import assert_accessible, assert_landmarks
from tests.conftest import TEST_REDIS_URL
from tests.console.conftest import PASSWORD
from tests.newsletters.helpers import change, source, subscriber

pytestmark = [pytest.mark.browser, pytest.mark.date_sensitive]


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/posts"))


def check_both_widths(page: Any) -> None:
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_bulletin_written_approved_and_in_the_outbox(
    browser: Any, live_app: Any, session: Any, officers: Any, monkeypatch: Any, clock: Any
) -> None:
    monkeypatch.setenv("PUBLISHER_LOCAL", "1")
    monkeypatch.setenv("MAIL_TRANSPORT", "outbox")
    reset_settings()
    now = dt.datetime.now(dt.UTC)
    src = source(session)
    change(session, src, "a", "Riverside Youth Club", at=now - dt.timedelta(hours=1))
    subscriber(session, "parent@example.org")
    session.commit()
    server = live_app(create_app({"TESTING": True}))
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, server.url, "editor@council.example")
        page.get_by_role("link", name="Bulletins").click()
        check_both_widths(page)
        page.get_by_role("link", name="Write a bulletin").click()
        check_both_widths(page)
        page.get_by_label("Title").fill("Have your say on short breaks")
        body = page.get_by_label("What you want to tell families")
        body.fill("Your EHCP provision was reviewed by the local authority.")
        # Advice, not a block: it names the jargon and the passive voice as they type.
        advice = page.locator("#advice-body")
        advice.get_by_text("“EHCP”", exact=False).wait_for()
        assert "was reviewed" in advice.inner_text()
        body.fill(
            "We are changing short breaks. Tell us what you think.\n\n"
            "- Fill in the [survey](https://consult.example.gov.uk/short-breaks)\n"
            "- Come to a meeting\n\n<script>alert('x')</script>"
        )
        page.get_by_role("button", name="Save draft").click()
        page.get_by_text("We took out parts that cannot go in a bulletin").wait_for()
        check_both_widths(page)
        page.get_by_role("button", name=re.compile("Sign out")).click()

        sign_in(page, server.url, "approver@council.example")
        page.get_by_role("link", name="Bulletins").click()
        page.get_by_role("link", name="Have your say on short breaks").click()
        page.get_by_role("button", name="Approve", exact=True).click()
        page.get_by_text("Approved. It goes at the top of the next email").wait_for()
        check_both_widths(page)

        clock.set(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))

        def send_here(edition_id: int, ids: list[int]) -> None:
            sending.send_batch(edition_id, ids)

        result = editions.run_edition(Frequency.WEEKLY, send_here, close_now=True)
        assert result.recipients == 1
        page.goto(f"{server.url}/outbox/")
        assert_accessible(page)
        page.get_by_role("link", name=re.compile("message from the Local Offer team")).click()
        frame = page.frame_locator("iframe")
        frame.get_by_role("heading", name="From the Local Offer team", exact=True).wait_for()
        heading = frame.get_by_role("heading", level=2).first.inner_text()
        assert heading == "From the Local Offer team"  # first, above the new services
        assert frame.get_by_role("link", name="survey").get_attribute("href") == (
            "https://consult.example.gov.uk/short-breaks"
        )
        assert "alert" not in frame.locator("body").inner_html()
        # The email's own HTML, and an urgent bulletin's, opened as pages.
        from publisher.bulletins.urgent import message_for
        from publisher.config import get_settings
        from tests.newsletters.helpers import parse, parts

        [saved] = list((get_settings().data_dir / "outbox").glob("*.eml"))
        emails = [parts(parse(saved.read_bytes()))[1]]
        with session_scope() as s:
            b = s.scalars(select(Bulletin)).one()
            sub = s.scalars(select(Subscriber)).one()
            emails.append(message_for(b, sub).html)
        for html in emails:
            assert html is not None
            page.set_content(html)
            assert_accessible(page)
        # The public pages.
        with session_scope() as s:
            bulletin_id = s.scalars(select(Bulletin.id)).one()
        for path in (
            "/bulletins",
            f"/bulletins/{bulletin_id}",
            f"/newsletters/{result.edition_id}",
        ):
            page.goto(server.url + path)
            check_both_widths(page)
            assert_landmarks(page)
    finally:
        context.close()
        sending.reset_process_state()


HOST_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Council Local Offer</title></head>
<body><main><h1>Our Local Offer</h1>{snippet}</main></body></html>"""


def test_embedded_form_in_an_allowed_site_only(
    browser: Any, live_app: Any, db: Any, redis_prefix: str, monkeypatch: Any
) -> None:
    from publisher.web.embed import snippet

    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    holder: dict[str, str] = {}
    allowed = live_app(_host_lazy(holder))
    refused = live_app(_host_lazy(holder))
    monkeypatch.setenv("EMBED_ALLOWED_ORIGINS", allowed.url)
    reset_settings()
    app = create_app(
        {
            "TESTING": True,
            "SUBSCRIPTIONS_KEY_PREFIX": redis_prefix,
            "SUBSCRIPTIONS_SEND_INLINE": True,
        }
    )
    publisher_site = live_app(app)
    monkeypatch.setenv("PUBLIC_BASE_URL", publisher_site.url)
    monkeypatch.setenv("MAIL_TRANSPORT", "outbox")
    reset_settings()
    holder["snippet"] = snippet()
    page = browser.new_page()
    try:
        page.goto(f"{publisher_site.url}/subscriptions/embed")
        check_both_widths(page)
        page.goto(f"{publisher_site.url}/subscriptions/embed/code")
        assert_accessible(page)

        page.goto(allowed.url + "/")
        frame = page.frame_locator("iframe[data-lop-embed]")
        frame.get_by_role("button", name="Sign up").wait_for()
        # embed.js resized the iframe to the height the form reported.
        page.wait_for_function(
            "document.querySelector('iframe[data-lop-embed]').style.height !== '1400px'"
        )
        frame.get_by_label("Email address").fill("framed.parent@example.org")
        frame.get_by_role("button", name="Sign up").click()
        frame.get_by_role("heading", name="Check your email").wait_for()
        with session_scope() as s:
            sub = s.scalars(select(Subscriber)).one()
            assert sub.email == "framed.parent@example.org"
            assert sub.status is SubscriberStatus.PENDING  # double opt-in still to come

        page.goto(refused.url + "/")
        page.wait_for_timeout(1500)
        inner = [f for f in page.frames if f is not page.main_frame]
        assert inner, "the iframe is on the page"
        # Chromium refuses to show our page there (frame-ancestors): no form inside.
        assert all(f.locator("form").count() == 0 for f in inner)
        assert page.get_by_role("link", name="Sign up for Local Offer news by email").count() == 1
    finally:
        page.close()


def _host_lazy(holder: dict[str, str]) -> Flask:
    host = Flask(f"council_site_{id(holder)}_{len(holder)}")

    @host.get("/")
    def home() -> str:
        return HOST_PAGE.format(snippet=holder.get("snippet", ""))

    holder.setdefault("_n", "0")
    return host


def test_feedback_sent_answered_and_published(
    browser: Any, live_app: Any, session: Any, officers: Any, redis_prefix: str, monkeypatch: Any
) -> None:
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    reset_settings()
    server = live_app(create_app({"TESTING": True, "SUBSCRIPTIONS_KEY_PREFIX": redis_prefix}))
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{server.url}/you-said-we-did/tell-us")
        check_both_widths(page)
        page.get_by_role("button", name="Send your comment").click()
        page.get_by_role("alert").wait_for()  # the error summary, focused
        check_both_widths(page)
        page.get_by_label("Something is missing").check()
        page.get_by_label("Your comment").fill("I could not find anything for 16 to 25.")
        page.get_by_label("You can publish my words").check()
        page.get_by_role("button", name="Send your comment").click()
        page.get_by_role("heading", name="Thank you for your comment").wait_for()
        assert_accessible(page)

        sign_in(page, server.url, "approver@council.example")
        page.get_by_role("link", name="You said, we did").click()
        check_both_widths(page)
        page.get_by_role("link", name=re.compile("I could not find anything")).click()
        check_both_widths(page)
        page.get_by_label("We said (the council's answer)").fill(
            "You were right. It was hard to find."
        )
        page.get_by_label("We did (what changed)").fill("We made a 16 to 25 page.")
        page.get_by_role("button", name="Save answer").click()
        page.get_by_role("button", name="Publish on the You said, we did page").click()
        page.get_by_text("Published on the You said, we did page.").wait_for()
        check_both_widths(page)

        page.goto(f"{server.url}/you-said-we-did/")
        check_both_widths(page)
        assert_landmarks(page)
        assert page.get_by_text("We made a 16 to 25 page.").count() == 1
        assert page.get_by_text("I could not find anything for 16 to 25.").count() == 1
    finally:
        context.close()
