"""Who is signed in, what their role lets them do, and idle time-outs (sign-in
throttling is in ``publisher.console.throttle``).

The Flask session cookie (signed with the app's secret key) holds the user's id and the
time of their last request; the user row is read again on every request, so that a
deactivated account or a changed role takes effect at once.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models.users import Role, User

F = TypeVar("F", bound=Callable[..., Any])

# What each role may do. Roles build on each other (an approver can also edit, an admin can
# do everything), but an editor can never approve and only an admin manages the service.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "view": frozenset({Role.EDITOR, Role.APPROVER, Role.ADMIN}),
    "edit": frozenset({Role.EDITOR, Role.APPROVER, Role.ADMIN}),
    "approve": frozenset({Role.APPROVER, Role.ADMIN}),
    "admin": frozenset({Role.ADMIN}),
}
# Shown on the 403 page: what the officer tried, who may do it.
REFUSALS: dict[str, str] = {
    "view": "You need to sign in to see this page.",
    "edit": "Only editors, approvers and admins can edit posts.",
    "approve": "Only approvers and admins can approve, reject, schedule or retry posts.",
    "admin": "Only admins can manage users, social media accounts, sources and settings "
    "or read the audit log.",
}


class Refused(Exception):
    """An action the signed-in user may not take. Turned into a 403 page with the message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def may(user: User | None, permission: str) -> bool:
    return user is not None and user.active and user.role in PERMISSIONS[permission]


def check(permission: str) -> None:
    """Raise Refused unless the signed-in user holds ``permission``."""
    user: User | None = g.get("user")
    if not may(user, permission):
        raise Refused(REFUSALS[permission])


def requires(permission: str) -> Callable[[F], F]:
    """View decorator: sign-in needed, then ``permission``; else a clear 403 page."""

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                return redirect(url_for("console.login", next=return_path()))
            check(permission)
            return view(*args, **kwargs)

        return cast(F, inner)

    return wrap


def return_path() -> str | None:
    """Where to go after signing in: this page, if it can be opened again (a form's
    target cannot: that would be a GET of a POST-only address)."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    return None


def idle_limit_seconds() -> int:
    return int(current_app.config.get("CONSOLE_IDLE_MINUTES", 30)) * 60


def max_session_seconds() -> int:
    return int(current_app.config.get("CONSOLE_MAX_SESSION_HOURS", 12)) * 3600


def load_user(db: Session) -> str | None:
    """Set ``g.user`` from the session. Returns a message when the session just ended."""
    g.user = None
    user_id = session.get("uid")
    if user_id is None:
        return None
    now = time.time()
    seen = float(session.get("seen", 0))
    if now - float(session.get("since", 0)) > max_session_seconds():
        session.clear()
        return "You were signed out because you have been signed in for a long time. Sign in again."
    if now - seen > idle_limit_seconds():
        session.clear()
        minutes = idle_limit_seconds() // 60
        return f"You were signed out because you did nothing for {minutes} minutes. Sign in again."
    user = db.get(User, int(user_id))
    if user is None or not user.active or session.get("sv") != user.session_version:
        # Deactivated, signed out (anywhere), or the password changed since this session
        # began: the server's session version moved on, so this cookie is worth nothing.
        session.clear()
        return "Your session has ended. Sign in again."
    g.user = user
    session["seen"] = now
    return None


def sign_in(user: User) -> None:
    # A fresh session on sign-in, so that a cookie planted before sign-in is worth nothing.
    session.clear()
    session["uid"] = user.id
    session["since"] = session["seen"] = time.time()
    session["sv"] = user.session_version
    user.last_login_at = utcnow()


def sign_out(user: User | None) -> None:
    """Sign out: every session of this officer ends on the server, not just this cookie
    (a copy of it taken earlier must not keep working)."""
    if user is not None:
        from publisher.console.users import end_sessions

        end_sessions(user)
    session.clear()


def client_address() -> str:
    return (request.remote_addr or "unknown")[:64]


def forbid(message: str) -> None:
    """Stop the request with a 403 and ``message`` (for refusals found inside a view)."""
    raise Refused(message)
