"""Issue 14: "Follow this service" and the embeddable sign-up form (without a browser;
tests/subscriptions/test_embed_browser.py frames it for real)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.models import ChangeKind, Frequency, Source, Subscriber, SubscriberStatus
from publisher.newsletters import editions, sending
from tests.mailsink import MailSink
from tests.newsletters.helpers import change, parse, parts, source, subscriber
from tests.subscriptions.conftest import csrf, links_in

# Dates worked out from now: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

EMBED_TOKEN = re.compile(r'name="embed_token" value="([^"]+)"')


def _entry(name: str = "Riverside Youth Club", entry_id: str = "svc-1") -> None:
    with session_scope() as s:
        src = source(s)
        change(s, src, entry_id, name, at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))


def _follow(client: FlaskClient, path: str, email: str, **extra: Any) -> Any:
    data = {"csrf_token": csrf(client, path), "email": email, "frequency": "immediate"}
    data.update(extra)
    return client.post(path, data=data)


def test_follow_signs_up_for_one_service_only(
    client: FlaskClient, mail_sink: MailSink, clock: Any
) -> None:
    _entry()
    with session_scope() as s:
        src_row = s.scalars(select(Subscriber)).all()
        assert src_row == []
    page = client.get("/follow/demo/svc-1")
    assert page.status_code == 200 and b"Riverside Youth Club" in page.data
    answer = _follow(client, "/follow/demo/svc-1", "Parent@Example.org")
    assert answer.status_code == 303
    confirm = next(p for p in links_in(mail_sink.messages[-1].message) if "/confirm/" in p)
    token = csrf(client, confirm)
    assert client.post(confirm, data={"csrf_token": token}).status_code == 200
    with session_scope() as s:
        sub = s.scalars(select(Subscriber)).one()
        assert sub.status is SubscriberStatus.ACTIVE
        assert sub.follows == ["demo:svc-1"] and sub.topic_news is False
        assert sub.frequency is Frequency.IMMEDIATE
        # Another service changes, then the followed one: only the followed one is sent.
        src = s.scalars(select(Source)).one()
        now = dt.datetime.now(dt.UTC)
        change(s, src, "svc-2", "Other Club", at=now - dt.timedelta(minutes=2))
        change(
            s,
            src,
            "svc-1",
            "Riverside Youth Club",
            kind=ChangeKind.UPDATED,
            at=now - dt.timedelta(minutes=1),
            summary="Now open on Saturdays.",
            changed_fields=["summary"],
        )
    mail_sink.messages.clear()

    def send_here(edition_id: int, ids: list[int]) -> None:
        sending.send_batch(edition_id, ids)

    try:
        result = editions.run_edition(Frequency.IMMEDIATE, send_here, close_now=True)
    finally:
        sending.reset_process_state()
    assert result.recipients == 1
    text, _ = parts(parse(mail_sink.messages[0].data))
    assert "Riverside Youth Club" in text and "Other Club" not in text


def test_follow_of_an_active_subscriber_waits_for_their_confirmation(
    client: FlaskClient, mail_sink: MailSink
) -> None:
    _entry()
    with session_scope() as s:
        subscriber(s, "parent@example.org", age_bands=["0-5"])
    _follow(client, "/follow/demo/svc-1", "parent@example.org")
    with session_scope() as s:
        sub = s.scalars(select(Subscriber)).one()
        assert sub.follows == [] and sub.topic_news is True  # nothing yet
    confirm = next(p for p in links_in(mail_sink.messages[-1].message) if "/confirm/" in p)
    client.post(confirm, data={"csrf_token": csrf(client, confirm)})
    with session_scope() as s:
        sub = s.scalars(select(Subscriber)).one()
        assert sub.follows == ["demo:svc-1"] and sub.topic_news is True
        assert sub.age_bands == ["0-5"]


def test_unknown_service_and_bad_input_change_nothing(client: FlaskClient) -> None:
    _entry()
    for path in ("/follow/demo/nope", "/follow/other/svc-1", "/follow/demo/" + "x" * 400):
        answer = client.get(path)
        assert answer.status_code == 404 and b"We cannot find that service" in answer.data
    token = csrf(client, "/follow/demo/svc-1")
    answer = client.post("/follow/demo/nope", data={"csrf_token": token, "email": "a@example.org"})
    assert answer.status_code == 404
    answer = _follow(client, "/follow/demo/svc-1", "not an address")
    assert answer.status_code == 400
    answer = _follow(client, "/follow/demo/svc-1", "a@example.org", website="http://spam")
    assert answer.status_code == 400
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_follow_is_rate_limited_per_client(app: Flask, client: FlaskClient) -> None:
    _entry()
    app.config["SUBSCRIPTIONS_LIMIT_PER_CLIENT"] = 3
    codes = [
        _follow(client, "/follow/demo/svc-1", f"p{i}@example.org").status_code for i in range(5)
    ]
    assert codes[:3] == [303, 303, 303] and codes[3:] == [429, 429]


def test_embed_form_frame_ancestors_and_token(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, mail_sink: MailSink
) -> None:
    monkeypatch.setenv(
        "EMBED_ALLOWED_ORIGINS", "https://localoffer.example.gov.uk, https://www.example.org/"
    )
    reset_settings()
    page = client.get("/subscriptions/embed")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'self' https://localoffer.example.gov.uk https://www.example.org;" in csp
    )
    assert "X-Frame-Options" not in page.headers
    assert client.get("/subscriptions/").headers["X-Frame-Options"] == "DENY"
    assert client.get("/console/login").headers["X-Frame-Options"] == "DENY"
    token = EMBED_TOKEN.search(page.get_data(as_text=True))
    assert token
    # No token, or a POST from another site's page: refused, nobody stored.
    assert client.post("/subscriptions/embed", data={"email": "a@example.org"}).status_code == 400
    other = client.post(
        "/subscriptions/embed",
        data={"email": "a@example.org", "embed_token": token.group(1)},
        headers={"Origin": "https://evil.example"},
    )
    assert other.status_code == 400
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 0
    ok = client.post(
        "/subscriptions/embed",
        data={"email": "a@example.org", "embed_token": token.group(1), "frequency": "weekly"},
        headers={"Origin": "http://localhost"},
    )
    assert ok.status_code == 200 and b"Check your email" in ok.data
    with session_scope() as s:
        sub = s.scalars(select(Subscriber)).one()
        assert sub.status is SubscriberStatus.PENDING and sub.consents[0].wording
    assert len(mail_sink.messages) == 1
    code = client.get("/subscriptions/embed/code")
    assert b"data-lop-embed" in code.data and b"https://www.example.org" in code.data


def test_bad_embed_origins_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.config import get_settings

    for bad in (
        "localoffer.example.gov.uk",
        "https://a.example/path",
        "javascript:alert(1)",
        "https://a.example; script-src *",
    ):
        monkeypatch.setenv("EMBED_ALLOWED_ORIGINS", bad)
        reset_settings()
        with pytest.raises(ValueError, match="EMBED_ALLOWED_ORIGINS"):
            get_settings()
    reset_settings()


def test_manage_page_lists_follows_and_stops_one(client: FlaskClient, mail_sink: MailSink) -> None:
    _entry()
    _follow(client, "/follow/demo/svc-1", "parent@example.org")
    confirm = next(p for p in links_in(mail_sink.messages[-1].message) if "/confirm/" in p)
    client.post(confirm, data={"csrf_token": csrf(client, confirm)})
    with session_scope() as s:
        from publisher.subscriptions import links

        sub = s.scalars(select(Subscriber)).one()
        manage = links.manage_url(sub).split("localoffer.example.gov.uk", 1)[1]
    page = client.get(manage)
    assert b"Services you follow" in page.data and b"Riverside Youth Club" in page.data
    token = csrf(client, manage)
    answer = client.post(
        manage,
        data={
            "csrf_token": token,
            "follows_shown": "yes",
            "topic_news": "yes",
            "frequency": "weekly",
            "format": "html",
        },
    )
    assert answer.status_code == 200
    with session_scope() as s:
        sub = s.scalars(select(Subscriber)).one()
        assert sub.follows == [] and sub.topic_news is True
