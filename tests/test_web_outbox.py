"""The local outbox pages that `publisher run` shows."""

from __future__ import annotations

import pytest

from publisher.config import get_settings, reset_settings
from publisher.mail.message import OutgoingMessage
from publisher.mail.transports import OutboxTransport
from publisher.web import create_app
from tests.browser import check_widths


@pytest.fixture()
def outbox_app(db, monkeypatch):
    monkeypatch.setenv("PUBLISHER_LOCAL", "1")
    reset_settings()  # settings are read once (tests/settings_env.py)
    transport = OutboxTransport(get_settings().mail)
    transport.send(
        OutgoingMessage(
            to="parent@example.org",
            subject="Confirm <your> newsletter",
            text="Press the button to confirm.",
            html=(
                "<html><head><title>Confirm</title></head><body><p>Press <b>the button</b>"
                '<script>alert(1)</script></p><p><a href="/privacy">Read the privacy notice</a>'
                "</p></body></html>"
            ),
            reference="confirm-1",
        )
    )
    return create_app({"TESTING": True})


def test_outbox_lists_and_shows_saved_emails_to_this_machine_only(outbox_app):
    client = outbox_app.test_client()
    listing = client.get("/outbox/")
    assert listing.status_code == 200
    assert (
        b"Confirm &lt;your&gt; newsletter" in listing.data and b"parent@example.org" in listing.data
    )
    page = client.get("/outbox/confirm-1.eml")
    assert page.status_code == 200
    assert b"Press the button to confirm." in page.data
    # The HTML part is shown only inside a sandboxed frame (no scripts) of its own page,
    # which alone may be framed, by this site only.
    assert b'sandbox="allow-popups' in page.data and b"<script>alert(1)" not in page.data
    assert b"allow-scripts" not in page.data
    preview = client.get("/outbox/confirm-1.eml/preview")
    assert preview.status_code == 200
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    policy = preview.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "script-src 'none'" in policy and "allow-scripts" not in policy
    assert b'<head><base target="_top">' in preview.data
    # Every other page still refuses to be framed.
    assert page.headers["X-Frame-Options"] == "DENY"
    assert client.get("/outbox/nope.eml/preview").status_code == 404
    assert client.get("/outbox/../secret_key").status_code == 404
    assert client.get("/outbox/nope.eml").status_code == 404
    remote = client.get("/outbox/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 404


def test_outbox_is_not_served_unless_running_locally(db, monkeypatch):
    monkeypatch.delenv("PUBLISHER_LOCAL", raising=False)
    reset_settings()  # settings are read once (tests/settings_env.py)
    assert create_app({"TESTING": True}).test_client().get("/outbox/").status_code == 404


def test_outbox_pages_are_accessible(outbox_app, browser, live_app):
    server = live_app(outbox_app)
    page = browser.new_page()
    try:
        for path, name in (("/outbox/", "outbox"), ("/outbox/confirm-1.eml", "outbox-email")):
            page.goto(server.url + path)
            check_widths(page, name)
    finally:
        page.close()


def test_a_link_inside_a_previewed_email_opens(outbox_app, browser, live_app):
    server = live_app(outbox_app)
    page = browser.new_page()
    try:
        page.goto(server.url + "/outbox/confirm-1.eml")
        frame = page.frame_locator("iframe[title='The email as HTML']")
        frame.get_by_text("the button").wait_for()
        frame.get_by_role("link", name="Read the privacy notice").click()
        page.wait_for_url(server.url + "/privacy")
        page.get_by_role("heading", name="Privacy notice").wait_for()
    finally:
        page.close()
