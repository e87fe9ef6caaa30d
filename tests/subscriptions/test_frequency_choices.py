"""Every frequency in the frequency table is offered on the sign-up and manage pages, in
the table's words, and can be chosen (daily included)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from publisher.config import get_settings, reset_settings
from publisher.db import session_scope
from publisher.models import Frequency, Subscriber
from publisher.newsletters.frequencies import rules_in_order
from publisher.subscriptions.links import manage_url
from tests.subscriptions.conftest import csrf_from, subscribe
from tests.subscriptions.helpers import active_subscriber, get

pytestmark = pytest.mark.date_sensitive


def test_sign_up_offers_every_frequency_and_takes_daily(client, monkeypatch):
    monkeypatch.setenv("EDITION_SEND_TIME", "07:30")
    reset_settings()  # settings are read once (tests/settings_env.py)
    html = client.get("/subscriptions/").get_data(as_text=True)
    settings = get_settings().editions
    for rule in rules_in_order():
        assert f'value="{rule.frequency.value}"' in html
        assert rule.choice(settings) in html
    assert "Once a day, at 7:30am" in html
    response = subscribe(client, "daily@example.org", frequency="daily")
    assert response.status_code == 303
    with session_scope() as session:
        row = session.scalars(select(Subscriber)).one()
        assert row.frequency is Frequency.DAILY


def test_unknown_frequency_is_refused_naming_every_choice(client):
    response = subscribe(client, "odd@example.org", frequency="fortnightly")
    assert response.status_code == 400
    assert "Choose how often: immediate, daily, weekly or monthly" in response.get_data(
        as_text=True
    )


def test_manage_page_changes_to_daily(client):
    sub = get(active_subscriber())
    path = urlsplit(manage_url(sub)).path
    html = client.get(path).get_data(as_text=True)
    assert "Once a day, at 7am" in html
    response = client.post(
        path, data={"csrf_token": csrf_from(html), "frequency": "daily", "format": "html"}
    )
    assert response.status_code == 200
    assert get(sub.id).frequency is Frequency.DAILY
    again = client.get(path).get_data(as_text=True)
    assert 'value="daily" checked' in again
