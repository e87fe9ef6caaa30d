"""Subscribing through the web form and the JSON endpoint, with double opt-in."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select

from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.models import ConsentRecord, ConsentSource, Subscriber, SubscriberStatus
from publisher.subscriptions import consent, tokens
from tests.subscriptions.conftest import csrf, csrf_from, links_in, subscribe

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def _count(model):
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_form_has_labelled_fields_and_fieldsets(client):
    html = client.get("/subscriptions/").get_data(as_text=True)
    assert '<label for="email">Email address</label>' in html
    for legend in (
        "Which ages?",
        "Which needs?",
        "Which types of service?",
        "Which areas?",
        "How often do you want emails?",
        "What kind of email?",
    ):
        assert f"<legend>{legend}</legend>" in html
    assert 'value="16-25"' in html and 'value="sensory-physical"' in html
    assert consent.current_wording() in html
    assert "Once a week, on Friday" in html


def test_form_names_the_configured_weekly_day(client, monkeypatch):
    monkeypatch.setenv("WEEKLY_EDITION_DAY", "tuesday")
    reset_settings()  # settings are read once (tests/settings_env.py)
    assert "Once a week, on Tuesday" in client.get("/subscriptions/").get_data(as_text=True)


def test_subscribe_stores_pending_request_with_consent_and_sends_one_confirm_email(
    client, mail_sink
):
    response = subscribe(
        client,
        " Parent@Example.ORG ",
        age_bands=["0-5", "16-25"],
        needs=["sensory-physical"],
        frequency="monthly",
        format="text",
        paid_opt_in="yes",
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/subscriptions/check-your-email")
    with session_scope() as session:
        sub = session.scalars(select(Subscriber)).one()
        assert sub.email == "parent@example.org"
        assert sub.status is SubscriberStatus.PENDING
        assert sub.age_bands == ["0-5", "16-25"]
        assert sub.needs == ["sensory-physical"]
        assert sub.frequency.value == "monthly" and sub.format.value == "text"
        assert sub.paid_opt_in is True
        record = session.scalars(select(ConsentRecord)).one()
        assert record.source is ConsentSource.WEB_FORM
        assert record.wording_version == consent.CURRENT_VERSION
        assert consent.current_wording() in record.wording
        assert f"[ticked] {consent.PAID_WORDING}" in record.wording
        assert record.wording_sha256 == hashlib.sha256(record.wording.encode()).hexdigest()
        assert record.confirmed_at is None and record.requested_at is not None
        assert record.client_network == "127.0.0.0/24"
    assert len(mail_sink.messages) == 1
    msg = mail_sink.messages[0].message
    assert mail_sink.messages[0].rcpt_tos == ["parent@example.org"]
    assert "Confirm" in msg["Subject"]
    assert msg["Message-ID"] and msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    paths = links_in(msg)
    assert paths and paths[0].startswith("/subscriptions/confirm/")


def test_confirm_link_shows_a_button_and_only_the_post_confirms(client, mail_sink):
    subscribe(client, "a@example.org")
    path = links_in(mail_sink.messages[0].message)[0]
    page = client.get(path)
    assert page.status_code == 200 and "Yes, send me emails" in page.get_data(as_text=True)
    with session_scope() as session:
        assert session.scalars(select(Subscriber)).one().status is SubscriberStatus.PENDING
    done = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 200 and "You are signed up" in done.get_data(as_text=True)
    with session_scope() as session:
        sub = session.scalars(select(Subscriber)).one()
        assert sub.status is SubscriberStatus.ACTIVE and sub.confirmed_at is not None
        assert sub.consents[0].confirmed_at is not None
    again = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert again.status_code == 200 and "already confirmed" in again.get_data(as_text=True)
    # Confirming sends one welcome email with the choices read back; confirming again
    # sends nothing more.
    assert len(mail_sink.messages) == 2
    welcome = mail_sink.messages[1].message
    assert welcome["Subject"] == "You are signed up for Example Council Local Offer emails"
    text = welcome.get_body(("plain",)).get_content()
    assert "- How often:" in text and "/subscriptions/manage/" in text
    assert "/subscriptions/unsubscribe/" in text


def test_answer_is_the_same_for_new_pending_and_active_addresses(client, mail_sink):
    answers = []
    for email in ("new@example.org", "new@example.org"):  # second time: pending
        r = subscribe(client, email)
        answers.append((r.status_code, r.headers["Location"]))
    # Make another address active, then ask again for it.
    subscribe(client, "active@example.org")
    path = links_in(mail_sink.messages[-1].message)[0]
    client.post(path, data={"csrf_token": csrf(client, path)})
    with session_scope() as session:
        active = session.scalars(
            select(Subscriber).where(Subscriber.email == "active@example.org")
        ).one()
        before = (active.age_bands, active.frequency, len(active.consents))
    r = subscribe(client, "active@example.org", age_bands=["0-5"], frequency="immediate")
    answers.append((r.status_code, r.headers["Location"]))
    assert len(set(answers)) == 1
    with session_scope() as session:
        active = session.scalars(
            select(Subscriber).where(Subscriber.email == "active@example.org")
        ).one()
        # A stranger cannot change someone's choices by subscribing them again.
        assert (active.age_bands, active.frequency, len(active.consents)) == before
    # The owner is told, with a link to manage their emails.
    last = mail_sink.messages[-1]
    assert last.rcpt_tos == ["active@example.org"]
    assert "already get them" in last.message.get_body(preferencelist=("plain",)).get_content()
    assert any(p.startswith("/subscriptions/manage/") for p in links_in(last.message))


def test_malformed_address_gets_a_linked_error_and_changes_nothing(client, mail_sink):
    for bad in ("not-an-address", "a@b", "", "two@@example.org"):
        r = subscribe(client, bad, age_bands=["0-5"])
        html = r.get_data(as_text=True)
        assert r.status_code == 400
        assert "There is a problem" in html
        assert 'href="#email"' in html
        assert "<title>Error:" in html
        assert 'value="0-5" checked' in html  # choices are kept
    assert _count(Subscriber) == 0 and _count(ConsentRecord) == 0
    assert mail_sink.messages == []


def test_unknown_preference_values_are_refused(client, mail_sink):
    r = subscribe(client, "x@example.org", age_bands=["0-5", "99-100"], frequency="hourly")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'href="#age_bands-0"' in html and "99-100" in html
    assert 'href="#frequency-0"' in html
    assert _count(Subscriber) == 0 and mail_sink.messages == []


def test_form_without_csrf_token_is_refused(client, mail_sink):
    r = client.post("/subscriptions/", data={"email": "x@example.org"})
    assert r.status_code == 400
    assert _count(Subscriber) == 0 and mail_sink.messages == []


def test_json_endpoint_accepts_without_csrf_and_answers_the_same(client, mail_sink):
    body = {
        "email": "json@example.org",
        "age_bands": ["11-16"],
        "frequency": "weekly",
        "format": "html",
        "paid_opt_in": False,
    }
    first = client.post("/subscriptions/api/subscribe", json=body)
    second = client.post("/subscriptions/api/subscribe", json=body)
    assert first.status_code == second.status_code == 202
    assert first.get_json() == second.get_json()
    with session_scope() as session:
        sub = session.scalars(select(Subscriber)).one()
        assert sub.age_bands == ["11-16"]
        assert {c.source for c in sub.consents} == {ConsentSource.JSON_API}
    assert len(mail_sink.messages) == 2


def test_json_endpoint_bad_input(client, mail_sink):
    r = client.post("/subscriptions/api/subscribe", json={"email": "nope", "needs": ["flying"]})
    assert r.status_code == 400
    assert set(r.get_json()["fields"]) == {"email", "needs"}
    r = client.post("/subscriptions/api/subscribe", json={"email": "a@example.org", "age_bands": 5})
    assert r.status_code == 400 and "age_bands" in r.get_json()["fields"]
    r = client.post(
        "/subscriptions/api/subscribe", json={"email": "a@example.org", "colour": "red"}
    )
    assert r.status_code == 400 and "colour" in r.get_json()["fields"]["_"]
    r = client.post("/subscriptions/api/subscribe", data="email=a@example.org")
    assert r.status_code == 415
    r = client.post("/subscriptions/api/subscribe", data="[1]", content_type="application/json")
    assert r.status_code == 400
    assert _count(Subscriber) == 0 and mail_sink.messages == []


def test_per_address_rate_limit_stops_inbox_flooding(client, mail_sink):
    codes = [subscribe(client, "victim@example.org").status_code for _ in range(5)]
    assert codes == [303, 303, 303, 429, 429]
    assert len(mail_sink.messages) == 3
    # Other addresses are not held up by it.
    assert subscribe(client, "other@example.org").status_code == 303
    # The JSON endpoint shares the same limit.
    r = client.post("/subscriptions/api/subscribe", json={"email": "victim@example.org"})
    assert r.status_code == 429


def test_per_client_rate_limit(app, mail_sink):
    app.config["SUBSCRIPTIONS_LIMIT_PER_CLIENT"] = 2
    with app.test_client() as c:
        codes = [subscribe(c, f"p{i}@example.org").status_code for i in range(3)]
        assert codes == [303, 303, 429]
        # Another client (address) is not affected.
        token = csrf(c)
        r = c.post(
            "/subscriptions/",
            data={"csrf_token": token, "email": "q@example.org"},
            environ_base={"REMOTE_ADDR": "10.1.2.3"},
        )
        assert r.status_code == 303
    assert len(mail_sink.messages) == 3


def test_forged_and_expired_confirm_links(client, mail_sink, clock):
    subscribe(client, "a@example.org")
    path = links_in(mail_sink.messages[0].message)[0]
    token = path.rsplit("/", 1)[1]
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    r = client.post(forged, data={"csrf_token": csrf(client)})
    assert r.status_code == 400 and "This link does not work" in r.get_data(as_text=True)
    # Eight days on, the same link has run out.

    real = tokens.read(tokens.CONFIRM, token)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    clock.set(later)
    r = client.post(path, data={"csrf_token": csrf(client)})
    assert r.status_code == 400 and "run out" in r.get_data(as_text=True)
    with session_scope() as session:
        sub = session.get(Subscriber, real.subscriber_id)
        assert sub is not None and sub.status is SubscriberStatus.PENDING


def test_only_the_newest_confirm_link_counts(client, mail_sink):
    subscribe(client, "a@example.org", age_bands=["0-5"])
    subscribe(client, "a@example.org", age_bands=["11-16"])
    old, new = (links_in(m.message)[0] for m in mail_sink.messages)
    r = client.post(old, data={"csrf_token": csrf(client)})
    assert r.status_code == 410
    r = client.post(new, data={"csrf_token": csrf(client)})
    assert r.status_code == 200
    with session_scope() as session:
        sub = session.scalars(select(Subscriber)).one()
        assert sub.status is SubscriberStatus.ACTIVE and sub.age_bands == ["11-16"]


def test_simultaneous_requests_for_one_new_address_make_one_subscriber(app, mail_sink):
    from concurrent.futures import ThreadPoolExecutor

    app.config["SUBSCRIPTIONS_LIMIT_PER_ADDRESS"] = 100
    app.config["SUBSCRIPTIONS_LIMIT_PER_CLIENT"] = 100
    app.config["SUBSCRIPTIONS_PER_MAILBOX_PER_DAY"] = 100

    def post(_: int) -> int:
        with app.test_client() as c:
            return c.post(
                "/subscriptions/api/subscribe", json={"email": "race@example.org"}
            ).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(post, range(6)))
    assert codes == [202] * 6
    assert _count(Subscriber) == 1
    assert _count(ConsentRecord) == 6
