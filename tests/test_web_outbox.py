"""The local outbox pages that `publisher run` shows."""

from __future__ import annotations

import pytest

from publisher.config import get_settings, reset_settings
from publisher.mail.message import OutgoingMessage
from publisher.mail.transports import OutboxTransport
from publisher.web import create_app
from tests.browser import assert_accessible


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
            html="<p>Press <b>the button</b><script>alert(1)</script></p>",
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
    # The HTML part is shown only inside a sandboxed frame, escaped into srcdoc.
    assert b'sandbox=""' in page.data and b"<script>alert(1)" not in page.data
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
        for path in ("/outbox/", "/outbox/confirm-1.eml"):
            page.goto(server.url + path)
            assert_accessible(page)
    finally:
        page.close()
