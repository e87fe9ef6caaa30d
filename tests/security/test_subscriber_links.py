"""Subscribers' links (issue 11, point 7), probed over HTTP.

The probe found that manage and unsubscribe links from before an unsubscribe worked
again after re-subscribing, a 400-day-old manage link still worked, ``data.json`` was
served for ended subscriptions, and an unconfirmed address asked for every 6 days was
never deleted. Now links are revoked at unsubscribe and at re-subscription, manage
links run out (every email brings fresh ones), and retention counts from the first
request of a chain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from publisher.db import session_scope
from publisher.models import Subscriber, SubscriberStatus
from publisher.subscriptions import links
from publisher.tasks.subscriptions import apply_retention
from tests.clock import Clock
from tests.security.conftest import BASE_URL, Site

pytestmark = pytest.mark.date_sensitive


def _path(url: str) -> str:
    assert url.startswith(BASE_URL)
    return url[len(BASE_URL) :]


def _subscribe_and_confirm(site: Site, email: str, client: str = "127.0.0.1") -> None:
    visitor = site.visitor(client)
    before = len(site.mails_to(email))
    answer = visitor.form("/subscriptions/", {"email": email, "frequency": "weekly"})
    assert answer.status_code == 303
    mails = site.mails_to(email)
    assert len(mails) == before + 1
    (confirm,) = [p for p in site.links(mails[-1]) if "/confirm/" in p]
    assert visitor.form(confirm, {}).status_code == 200
    assert _status(email) is SubscriberStatus.ACTIVE


def _status(email: str) -> SubscriberStatus | None:
    with session_scope() as session:
        return session.scalar(select(Subscriber.status).where(Subscriber.email == email))


def _footer_links(email: str) -> tuple[str, str]:
    """The manage and unsubscribe links an edition's footer carries (made as sending
    makes them)."""
    with session_scope() as session:
        sub = session.scalars(select(Subscriber).where(Subscriber.email == email)).one()
        return _path(links.manage_url(sub)), _path(links.unsubscribe_url(sub))


def _magic_link(site: Site, email: str) -> str:
    visitor = site.visitor()
    assert visitor.form("/subscriptions/link", {"email": email}).status_code == 303
    (magic,) = [p for p in site.links(site.mails_to(email)[-1]) if "/manage/" in p]
    return magic


def _dead(site: Site, path: str) -> bool:
    answer = site.visitor().get(path)
    if answer.status_code == 400:
        assert "This link does not work" in answer.text or "run out" in answer.text
        return True
    return False


def test_links_are_revoked_at_unsubscribe_and_at_resubscription(site: Site) -> None:
    email = "parent@example.org"
    _subscribe_and_confirm(site, email)
    manage, unsubscribe = _footer_links(email)
    magic = _magic_link(site, email)
    assert site.visitor().get(manage).status_code == 200
    assert site.visitor().get(manage + "/data.json").status_code == 200

    one_click = site.visitor().post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert _status(email) is SubscriberStatus.ENDED
    for path in (manage, magic, manage + "/data.json", magic + "/data.json"):
        assert _dead(site, path), path
    # Following the unsubscribe link again says so, and changes nothing.
    again = site.visitor().get(unsubscribe)
    assert again.status_code == 200 and "Your emails have stopped" in again.text

    _subscribe_and_confirm(site, email)
    for path in (manage, magic, manage + "/data.json"):
        assert _dead(site, path), path
    # The old unsubscribe link must not end the new subscription.
    old = site.visitor().post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert old.status_code == 400
    assert _status(email) is SubscriberStatus.ACTIVE
    # Fresh links work.
    new_manage, _ = _footer_links(email)
    assert site.visitor().get(new_manage).status_code == 200


def test_manage_links_run_out_but_unsubscribe_links_do_not(site: Site, clock: Clock) -> None:
    email = "old-links@example.org"
    _subscribe_and_confirm(site, email)
    manage, unsubscribe = _footer_links(email)
    clock.move(dt.timedelta(days=400))
    answer = site.visitor().get(manage)
    assert answer.status_code == 400 and "run out" in answer.text
    assert site.visitor().get(manage + "/data.json").status_code == 400
    # Leaving must work from any email still in an inbox.
    left = site.visitor().post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert left.status_code == 200
    assert _status(email) is SubscriberStatus.ENDED


def test_data_json_is_not_served_for_an_ended_subscription(site: Site) -> None:
    email = "ended@example.org"
    _subscribe_and_confirm(site, email)
    manage, _ = _footer_links(email)
    with session_scope() as session:
        sub = session.scalars(select(Subscriber).where(Subscriber.email == email)).one()
        sub.status = SubscriberStatus.ENDED  # ended some other way (a bounce)
    answer = site.visitor().get(manage + "/data.json")
    assert answer.status_code == 404
    assert "application/json" not in answer.headers["Content-Type"]
    assert email not in answer.text


def test_repeated_requests_do_not_keep_an_unconfirmed_address(site: Site, clock: Clock) -> None:
    email = "never-confirms@example.org"
    start = dt.datetime.now(dt.UTC)
    for day in (0, 6, 12):
        clock.set(start + dt.timedelta(days=day))
        visitor = site.visitor()
        assert visitor.form("/subscriptions/", {"email": email}).status_code == 303
        assert _status(email) is SubscriberStatus.PENDING
        result: dict[str, Any] = apply_retention()
        if day < 12:
            assert _status(email) is SubscriberStatus.PENDING
    # Day 12: 12 days after the first request of the chain, the address is gone.
    assert result["expired_deleted"] == 1
    assert _status(email) is None
