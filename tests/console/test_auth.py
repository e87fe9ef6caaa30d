"""Signing in and out, idle time-outs, throttling, CSRF and hashed passwords."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from publisher.models import AuditEvent, LoginAttempt, User
from tests.console.conftest import PASSWORD, Officer


def test_passwords_are_stored_hashed_with_scrypt(session, officers):
    user = session.get(User, officers["editor"].id)
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_console_pages_need_signing_in(app, officers):
    officer = Officer(app)
    response = officer.get("/console/posts")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=/console/posts")


def test_sign_in_then_out(app, officers):
    officer = Officer(app)
    response = officer.login("EDITOR@council.example")
    assert response.status_code == 302
    page = officer.get("/console/posts")
    assert page.status_code == 200
    assert "Signed in as editor@council.example (editor)" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    out = officer.post("/console/logout", page="/console/posts")
    assert out.status_code == 302
    assert officer.get("/console/posts").status_code == 302


def test_wrong_password_is_refused_with_a_clear_message(app, officers, session):
    officer = Officer(app)
    response = officer.login("editor@council.example", "wrong password here")
    assert response.status_code == 401
    assert "The email or password is wrong" in response.get_data(as_text=True)
    assert officer.get("/console/posts").status_code == 302
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 1


def test_unknown_email_gets_the_same_message(app, officers):
    response = Officer(app).login("nobody@council.example")
    assert response.status_code == 401
    assert "The email or password is wrong" in response.get_data(as_text=True)


def test_wrong_passwords_slow_down_that_client_only(app, officers):
    officer = Officer(app)
    for _ in range(3):
        assert officer.login("editor@council.example", "not the password").status_code == 401
    response = officer.login("editor@council.example")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "5"
    assert "Too many wrong tries. Wait 5 seconds" in response.get_data(as_text=True)
    assert officer.get("/console/posts").status_code == 302
    # The officer, elsewhere, with the right password, is not held up
    # (tests/security/test_sign_in_throttle.py covers the rest).
    elsewhere = Officer(app)
    assert (
        elsewhere.client.post(
            "/console/login",
            data={
                "email": "editor@council.example",
                "password": PASSWORD,
                "csrf_token": elsewhere.token(),
            },
            environ_base={"REMOTE_ADDR": "10.9.8.7"},
        ).status_code
        == 302
    )
    # Another officer is not locked out by someone guessing at a different account.
    assert Officer(app).login("approver@council.example").status_code == 302


def test_idle_session_times_out(app, officers):
    officer = Officer(app)
    officer.login("editor@council.example")
    assert officer.get("/console/posts").status_code == 200
    # As if 31 minutes had passed since the last request.
    with officer.client.session_transaction() as s:
        s["seen"] = time.time() - 31 * 60
    response = officer.get("/console/posts")
    assert response.status_code == 302
    page = officer.get(response.headers["Location"])
    assert "You were signed out because you did nothing for 30 minutes" in page.get_data(
        as_text=True
    )
    assert officer.get("/console/posts").status_code == 302


def test_idle_limit_is_configurable(db, officers):
    from publisher.web import create_app

    app = create_app({"TESTING": True, "CONSOLE_IDLE_MINUTES": 5})
    officer = Officer(app)
    officer.login("editor@council.example")
    with officer.client.session_transaction() as s:
        s["seen"] = time.time() - 6 * 60
    assert officer.get("/console/posts").status_code == 302


def test_deactivated_user_is_signed_out_at_once(app, officers, session, sign_in):
    editor = sign_in("editor")
    assert editor.get("/console/posts").status_code == 200
    user = session.get(User, officers["editor"].id)
    user.active = False
    session.commit()
    assert editor.get("/console/posts").status_code == 302
    assert Officer(app).login("editor@council.example").status_code == 401


def test_login_without_csrf_token_is_refused(app, officers):
    client = Officer(app).client
    response = client.post(
        "/console/login", data={"email": "editor@council.example", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_forged_csrf_token_changes_nothing(app, officers, session, sign_in):
    admin = sign_in("admin")
    response = admin.client.post(
        "/console/admin/users",
        data={
            "email": "mallory@example.org",
            "role": "admin",
            "password": "x" * 20,
            "csrf_token": "forged." + "A" * 40,
        },
    )
    assert response.status_code == 400
    assert "nothing has been changed" in response.get_data(as_text=True)
    assert session.scalar(select(User).where(User.email == "mallory@example.org")) is None
    # A token from another session is refused too.
    other = sign_in("approver")
    stolen = other.token("/console/posts")
    response = admin.client.post(
        "/console/admin/users",
        data={
            "email": "mallory@example.org",
            "role": "admin",
            "password": "x" * 20,
            "csrf_token": stolen,
        },
    )
    assert response.status_code == 400
    assert session.scalar(select(User).where(User.email == "mallory@example.org")) is None


def test_logout_needs_a_csrf_token(sign_in):
    editor = sign_in("editor")
    assert editor.client.post("/console/logout").status_code == 400
    assert editor.get("/console/posts").status_code == 200


def test_next_only_goes_to_console_pages(app, officers):
    officer = Officer(app)
    token = officer.token()
    response = officer.client.post(
        "/console/login?next=https://evil.example/",
        data={"email": "editor@council.example", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/console/"


def test_user_creation_is_audited_without_the_password(session, officers):
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create")).all()
    assert {e.after["email"] for e in events} == {u.email for u in officers.values()}
    assert all("password" not in str(e.after) and "scrypt" not in str(e.after) for e in events)


def test_sessions_end_after_the_longest_allowed_time(app, officers):
    officer = Officer(app)
    officer.login("editor@council.example")
    with officer.client.session_transaction() as s:
        s["since"] = time.time() - 13 * 3600
    response = officer.get("/console/posts")
    assert response.status_code == 302
    page = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert "signed in for a long time" in page


def test_session_cookie_never_holds_the_password_hash(app, officers, session):
    officer = Officer(app)
    officer.login("editor@council.example")
    with officer.client.session_transaction() as s:
        values = " ".join(str(v) for v in s.values())
    user = session.get(User, officers["editor"].id)
    hash_part = user.password_hash.rsplit("$", 1)[-1]
    assert hash_part[-8:] not in values


def test_new_password_ends_other_sessions(app, officers, sign_in, session):
    editor = sign_in("editor")
    admin = sign_in("admin")
    user_id = officers["editor"].id
    response = admin.post(
        f"/console/admin/users/{user_id}/password",
        {"password": "a brand new password"},
        page="/console/admin/users",
    )
    assert response.status_code == 302
    assert editor.get("/console/posts").status_code == 302
    assert Officer(app).login("editor@council.example").status_code == 401
    assert Officer(app).login("editor@council.example", "a brand new password").status_code == 302
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.set_password")
    ).one()
    assert event.actor_email == "admin@council.example"
    assert event.before is None and event.after is None


def test_a_good_sign_in_clears_earlier_failures(app, officers):
    officer = Officer(app)
    for _ in range(2):
        officer.login("editor@council.example", "not the password")
    assert officer.login("editor@council.example").status_code == 302
    other = Officer(app)
    # Had the two failures before the good sign-in counted, the third try would wait.
    for _ in range(3):
        assert other.login("editor@council.example", "not the password").status_code == 401


def test_sign_in_and_out_are_audited(app, officers, session):
    officer = Officer(app)
    officer.login("approver@council.example")
    officer.post("/console/logout", page="/console/posts")
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.actor_email == "approver@council.example")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["user.sign_in", "user.sign_out"]


def test_a_form_sent_after_time_out_signs_in_again_to_the_console_home(app, officers):
    officer = Officer(app)
    officer.login("approver@council.example")
    token = officer.token("/console/posts")
    with officer.client.session_transaction() as s:
        s["seen"] = time.time() - 31 * 60
    response = officer.client.post("/console/posts/1/approve", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/login"


def test_console_pages_carry_a_strict_content_security_policy(sign_in):
    page = sign_in("editor").get("/console/posts")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy


def test_officer_changes_own_password_and_other_sessions_end(app, officers, sign_in):
    here = sign_in("editor")
    elsewhere = sign_in("editor")
    wrong = here.post(
        "/console/account",
        {"current_password": "nope", "new_password": "x" * 14, "confirm_password": "x" * 14},
        page="/console/account",
    )
    assert wrong.status_code == 400
    assert "Your current password is wrong" in wrong.get_data(as_text=True)
    short = here.post(
        "/console/account",
        {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
        page="/console/account",
    )
    assert "at least 12 characters" in short.get_data(as_text=True)
    done = here.post(
        "/console/account",
        {
            "current_password": PASSWORD,
            "new_password": "my new pass phrase",
            "confirm_password": "my new pass phrase",
        },
        page="/console/account",
    )
    assert done.status_code == 302
    assert here.get("/console/posts").status_code == 200
    assert elsewhere.get("/console/posts").status_code == 302
    assert Officer(app).login("editor@council.example", "my new pass phrase").status_code == 302
