"""CSRF across the whole app: a form posted without a valid token changes nothing and
gets a page that says what to do."""

from __future__ import annotations

from sqlalchemy import func, select

from publisher.db import session_scope
from publisher.models import Subscriber
from publisher.web import create_app


def test_public_form_without_token_is_refused_plainly(db):
    client = create_app({"TESTING": True}).test_client()
    response = client.post(
        "/subscriptions/", data={"email": "parent@example.org", "frequency": "weekly"}
    )
    assert response.status_code == 400
    assert (
        b"This form has expired" in response.data and b"Nothing has been changed" in response.data
    )
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_forged_token_on_the_console_gets_the_console_page(db):
    client = create_app({"TESTING": True}).test_client()
    response = client.post(
        "/console/login", data={"csrf_token": "forged", "email": "a@b.c", "password": "x"}
    )
    assert response.status_code == 400
    assert b"We could not check that this form came from the console" in response.data
    assert b"Go back to the console" in response.data
