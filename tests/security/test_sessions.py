"""Console sessions end on the server (issue 11, point 6), probed over HTTP.

The probe copied a session cookie, signed out, and kept using the copy for 12 hours.
Now sign-out, a new password and deactivation move the officer's session version on,
so every copy of every cookie of that officer stops working at once. An admin cannot
set their own password on the Users page without giving the current one.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from publisher.console.users import create_user
from publisher.db import session_scope
from publisher.models import User
from tests.security.conftest import Site, Visitor

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def officers(site: Site) -> dict[str, int]:
    with session_scope() as session:
        ids = {
            role: create_user(session, f"{role}@council.example", role, PASSWORD).id
            for role in ("editor", "admin")
        }
        create_user(session, "admin2@council.example", "admin", PASSWORD)
    return ids


def _signed_in(site: Site, email: str, password: str = PASSWORD) -> Visitor:
    visitor = site.visitor()
    answer = visitor.form("/console/login", {"email": email, "password": password})
    assert answer.status_code == 302, answer.text
    assert visitor.get("/console/posts").status_code == 200
    return visitor


def _copy(site: Site, visitor: Visitor) -> Visitor:
    """A second client holding a copy of the first one's cookies (a stolen cookie)."""
    thief = site.visitor()
    thief.http.cookies.update(visitor.http.cookies)
    assert thief.get("/console/posts").status_code == 200
    return thief


def _works(visitor: Visitor) -> bool:
    answer = visitor.get("/console/posts")
    if answer.status_code == 302:
        assert "/console/login" in answer.headers["Location"]
        return False
    assert answer.status_code == 200
    return True


def test_sign_out_ends_copied_sessions_and_other_devices(site: Site, officers: Any) -> None:
    editor = _signed_in(site, "editor@council.example")
    copied = _copy(site, editor)
    laptop = _signed_in(site, "editor@council.example")
    token = editor.csrf("/console/posts")
    assert editor.post("/console/logout", data={"csrf_token": token}).status_code == 302
    assert not _works(copied)
    assert not _works(laptop)
    # Signing in again works, and gives a session the old copies cannot share.
    again = _signed_in(site, "editor@council.example")
    assert _works(again)
    assert not _works(copied)


def test_a_new_password_ends_every_session(site: Site, officers: Any) -> None:
    editor = _signed_in(site, "editor@council.example")
    copied = _copy(site, editor)
    answer = editor.form(
        "/console/account",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new long password",
            "confirm_password": "a brand new long password",
        },
    )
    assert answer.status_code == 302
    assert _works(editor), "the officer who changed it stays signed in"
    assert not _works(copied)


def test_an_admin_setting_a_password_ends_that_officers_sessions(site: Site, officers: Any) -> None:
    editor = _signed_in(site, "editor@council.example")
    admin = _signed_in(site, "admin@council.example")
    answer = admin.form(
        f"/console/admin/users/{officers['editor']}/password",
        {"password": "set by the admin 123"},
        page="/console/admin/users",
    )
    assert answer.status_code == 302
    assert not _works(editor)
    assert _works(admin)


def test_deactivation_ends_every_session(site: Site, officers: Any) -> None:
    editor = _signed_in(site, "editor@council.example")
    copied = _copy(site, editor)
    admin = _signed_in(site, "admin@council.example")
    answer = admin.form(
        f"/console/admin/users/{officers['editor']}/active",
        {"active": "no"},
        page="/console/admin/users",
    )
    assert answer.status_code == 302
    assert not _works(editor)
    assert not _works(copied)
    # Reactivated, the old cookies stay dead.
    admin.form(
        f"/console/admin/users/{officers['editor']}/active",
        {"active": "yes"},
        page="/console/admin/users",
    )
    assert not _works(copied)


def test_an_admin_must_give_the_current_password_to_change_their_own(
    site: Site, officers: Any
) -> None:
    admin = _signed_in(site, "admin@council.example")
    before = _hash("admin@council.example")
    answer = admin.form(
        f"/console/admin/users/{officers['admin']}/password",
        {"password": "taken over by someone else"},
        page="/console/admin/users",
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/console/account")
    assert _hash("admin@council.example") == before
    wrong = admin.form(
        "/console/account",
        {
            "current_password": "not the password at all",
            "new_password": "taken over by someone else",
            "confirm_password": "taken over by someone else",
        },
    )
    assert wrong.status_code == 400
    assert _hash("admin@council.example") == before
    assert _works(admin)


def _hash(email: str) -> str:
    with session_scope() as session:
        return str(session.scalar(select(User.password_hash).where(User.email == email)))
