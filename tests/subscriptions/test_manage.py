"""Managing and leaving without logging in: signed links, one-click unsubscribe,
"send me a link", download and delete."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from publisher.db import session_scope
from publisher.models import EndReason, Subscriber, SubscriberStatus, Suppression
from publisher.subscriptions import lifecycle
from publisher.subscriptions.addresses import email_sha256
from publisher.subscriptions.links import manage_url, unsubscribe_url
from tests.subscriptions.conftest import BASE_URL, csrf, csrf_from, links_in, subscribe
from tests.subscriptions.helpers import active_subscriber, get

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def _path(url: str) -> str:
    assert url.startswith(BASE_URL + "/subscriptions/")
    return urlsplit(url).path


def test_link_functions_give_absolute_urls_from_public_base_url(app):
    sub = get(active_subscriber())
    assert manage_url(sub).startswith(f"{BASE_URL}/subscriptions/manage/")
    assert unsubscribe_url(sub).startswith(f"{BASE_URL}/subscriptions/unsubscribe/")
    assert manage_url(sub) != unsubscribe_url(sub).replace("unsubscribe", "manage")


def test_manage_page_shows_and_saves_choices_with_a_new_consent_record(client):
    sub = get(active_subscriber(age_bands=["0-5"]))
    path = _path(manage_url(sub))
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "parent@example.org" in html and 'value="0-5" checked' in html
    r = client.post(
        path,
        data={
            "csrf_token": csrf_from(html),
            "age_bands": ["16-25"],
            "categories": ["health"],
            "frequency": "immediate",
            "format": "text",
        },
    )
    assert r.status_code == 200 and "Your choices are saved" in r.get_data(as_text=True)
    after = get(sub.id)
    assert after.age_bands == ["16-25"] and after.categories == ["health"]
    assert after.frequency.value == "immediate" and after.format.value == "text"
    assert len(after.consents) == 2 and after.consents[-1].confirmed_at is not None


def test_manage_with_bad_choices_changes_nothing(client):
    sub = get(active_subscriber(age_bands=["0-5"]))
    path = _path(manage_url(sub))
    r = client.post(path, data={"csrf_token": csrf(client, path), "age_bands": ["0-99"]})
    assert r.status_code == 400 and 'href="#age_bands-0"' in r.get_data(as_text=True)
    assert get(sub.id).age_bands == ["0-5"] and len(get(sub.id).consents) == 1


def test_forged_links_and_revoked_links_are_refused(client):
    sub = get(active_subscriber())
    manage = _path(manage_url(sub))
    unsub = _path(unsubscribe_url(sub))
    # A manage token used as an unsubscribe token (or changed) does not work.
    swapped = unsub.replace(unsub.rsplit("/", 1)[1], manage.rsplit("/", 1)[1])
    assert client.post(swapped, data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert client.get(manage + "x").status_code == 400
    assert client.get("/subscriptions/manage/not-a-token").status_code == 400
    assert get(sub.id).status is SubscriberStatus.ACTIVE
    # Bumping token_version kills every link sent so far.
    with session_scope() as session:
        row = session.get(Subscriber, sub.id)
        assert row is not None
        row.token_version += 1
    assert client.get(manage).status_code == 400
    assert client.post(unsub, data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert get(sub.id).status is SubscriberStatus.ACTIVE


def test_one_click_unsubscribe_needs_no_csrf_and_takes_effect_at_once(client):
    sub = get(active_subscriber())
    path = _path(unsubscribe_url(sub))
    r = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200
    after = get(sub.id)
    assert after.status is SubscriberStatus.ENDED
    assert after.end_reason is EndReason.UNSUBSCRIBED and after.ended_at is not None
    assert all(c.withdrawn_at is not None for c in after.consents)
    with session_scope() as session:
        assert lifecycle.is_suppressed(session, "Parent@example.org")
    # Mail providers may POST twice, and may send multipart/form-data: still fine.
    again = client.post(
        path, data={"List-Unsubscribe": "One-Click"}, content_type="multipart/form-data"
    )
    assert again.status_code == 200 and again.get_data(as_text=True) == "Unsubscribed"


def test_unsubscribe_get_shows_a_button_and_changes_nothing(client):
    sub = get(active_subscriber())
    path = _path(unsubscribe_url(sub))
    page = client.get(path)
    assert page.status_code == 200 and "Stop my emails" in page.get_data(as_text=True)
    assert get(sub.id).status is SubscriberStatus.ACTIVE
    r = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 200 and "Your emails have stopped" in r.get_data(as_text=True)
    assert get(sub.id).status is SubscriberStatus.ENDED


def test_send_me_a_link_emails_a_one_hour_link_only_to_subscribers(client, mail_sink, clock):
    active_subscriber()
    answers = set()
    for email in ("parent@example.org", "stranger@example.org"):
        r = client.post(
            "/subscriptions/link",
            data={"csrf_token": csrf(client, "/subscriptions/link"), "email": email},
        )
        answers.add((r.status_code, r.headers["Location"]))
    assert answers == {(303, "/subscriptions/link/sent")}
    assert [m.rcpt_tos for m in mail_sink.messages] == [["parent@example.org"]]
    paths = links_in(mail_sink.messages[0].message)
    manage = next(p for p in paths if p.startswith("/subscriptions/manage/"))
    assert client.get(manage).status_code == 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    clock.set(later)
    r = client.get(manage)
    assert r.status_code == 400 and "run out" in r.get_data(as_text=True)


def test_send_me_a_link_bad_address_and_rate_limit(client, mail_sink):
    r = client.post(
        "/subscriptions/link",
        data={"csrf_token": csrf(client, "/subscriptions/link"), "email": "nope"},
    )
    assert r.status_code == 400 and 'href="#email"' in r.get_data(as_text=True)
    active_subscriber()
    codes = [
        client.post(
            "/subscriptions/link",
            data={"csrf_token": csrf(client, "/subscriptions/link"), "email": "parent@example.org"},
        ).status_code
        for _ in range(4)
    ]
    assert codes == [303, 303, 303, 429]
    assert len(mail_sink.messages) == 3


def test_download_my_data(client):
    sub = get(active_subscriber(needs=["cognition-learning"], paid_opt_in=True))
    r = client.get(_path(manage_url(sub)) + "/data.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert "attachment" in r.headers["Content-Disposition"]
    data = json.loads(r.get_data(as_text=True))
    assert data["email"] == "parent@example.org" and data["status"] == "active"
    assert data["preferences"]["needs"] == ["cognition-learning"]
    assert data["preferences"]["paid_opt_in"] is True
    assert data["consents"][0]["confirmed_at"] and data["consents"][0]["wording"]


def test_delete_my_data_erases_the_address_and_keeps_only_a_hash(client, mail_sink):
    sub = get(active_subscriber())
    path = _path(manage_url(sub))
    page = client.get(path + "/delete")
    assert page.status_code == 200 and get(sub.id).email == "parent@example.org"
    r = client.post(path + "/delete", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 200 and "Your data is deleted" in r.get_data(as_text=True)
    after = get(sub.id)
    assert after.email is None and after.status is SubscriberStatus.ENDED
    assert after.end_reason is EndReason.DELETED and after.consents == []
    assert after.age_bands == [] and after.erased_at is not None
    with session_scope() as session:
        rows = session.scalars(select(Suppression)).all()
        assert [(s.email_sha256, s.reason) for s in rows] == [
            (email_sha256("parent@example.org"), EndReason.DELETED)
        ]
    # The old links are dead now.
    assert client.get(path).status_code == 400


def test_coming_back_after_leaving_needs_a_new_confirmation(client, mail_sink):
    sub = get(active_subscriber())
    client.post(_path(unsubscribe_url(sub)), data={"List-Unsubscribe": "One-Click"})
    assert subscribe(client, "parent@example.org", age_bands=["5-11"]).status_code == 303
    after = get(sub.id)
    assert after.status is SubscriberStatus.PENDING and after.age_bands == ["5-11"]
    confirm = links_in(mail_sink.messages[-1].message)[0]
    client.post(confirm, data={"csrf_token": csrf(client)})
    assert get(sub.id).status is SubscriberStatus.ACTIVE
    with session_scope() as session:
        assert not lifecycle.is_suppressed(session, "parent@example.org")


def test_bounced_address_gets_no_confirmation_email(client, mail_sink):
    sub = get(active_subscriber())
    with session_scope() as session:
        row = session.get(Subscriber, sub.id)
        assert row is not None
        assert lifecycle.end_subscription(session, row, EndReason.BOUNCED)
        assert not lifecycle.end_subscription(session, row, EndReason.BOUNCED)
    assert subscribe(client, "parent@example.org").status_code == 303
    assert mail_sink.messages == []
    assert get(sub.id).status is SubscriberStatus.ENDED


def test_list_unsubscribe_header_from_a_sent_message_works_with_one_click(client, app, mail_sink):
    """The header as the mail package writes it, read back by a mail client and POSTed the
    way RFC 8058 says (form-encoded body "List-Unsubscribe=One-Click")."""
    from publisher.mail import OutgoingMessage, get_transport

    sub = get(active_subscriber())
    transport = get_transport()
    try:
        transport.send(
            OutgoingMessage(
                to="parent@example.org",
                subject="News",
                text="Hello",
                html="<p>Hello</p>",
                unsubscribe_url=unsubscribe_url(sub),
            )
        )
    finally:
        transport.close()
    msg = mail_sink.messages[-1].message
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = str(msg["List-Unsubscribe"])
    assert header.startswith("<https://") and header.endswith(">") and "=?" not in header
    r = client.post(
        _path(header[1:-1]),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 200
    assert get(sub.id).status is SubscriberStatus.ENDED


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_string_as_a_token_is_refused_cleanly(app, text):
    from publisher.subscriptions import tokens

    for kind in (tokens.CONFIRM, tokens.MANAGE, tokens.UNSUBSCRIBE, tokens.MAGIC):
        with pytest.raises(tokens.BadToken):
            tokens.read(kind, text)


def test_tokens_of_one_kind_never_pass_for_another(app):
    from publisher.subscriptions import tokens

    kinds = (tokens.CONFIRM, tokens.MANAGE, tokens.UNSUBSCRIBE, tokens.MAGIC)
    for made in kinds:
        token = tokens.make(made, 1, 1)
        assert tokens.read(made, token).subscriber_id == 1
        for other in kinds:
            if other != made:
                with pytest.raises(tokens.BadToken):
                    tokens.read(other, token)
