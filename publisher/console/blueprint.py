"""The console's blueprint and its unit of work.

Each request gets one database session (``g.db``) and one transaction: it commits in one
place, after the view, when the answer is not an error (below 400), and rolls back
otherwise. A view that refuses a form after changing something calls ``undo_changes()``
so that nothing of it is kept, whatever it answers. Tasks a view queues go through
``publisher.tasks.queueing.send_after_commit`` and leave only after that commit.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for

from publisher.console import auth
from publisher.db import session_factory

bp = Blueprint("console", __name__, url_prefix="/console")

M = TypeVar("M")


def found_or_404(model: type[M], key: int) -> M:
    """The row with this primary key in the console's session, or a 404 page."""
    row: M | None = g.db.get(model, key)
    if row is None:
        abort(404)
    return row


def undo_changes() -> None:
    """Forget every change this request made so far; nothing of it will be committed."""
    g.db.rollback()
    g.undone = True


def keep_changes() -> None:
    """Commit now, whatever the answer will be (a failed sign-in is recorded even though
    the answer is 401)."""
    g.db.commit()


def safe_next(target: str | None) -> str | None:
    """Only ever go back to a console page (never to another site)."""
    if not target:
        return None
    target = target.rstrip("?")
    if target.startswith("/console") and not target.startswith("//"):
        return target
    return None


@bp.before_request
def _open_session() -> Any:
    g.db = session_factory()()
    ended = auth.load_user(g.db)
    if ended:
        keep_changes()
        flash(ended, "info")
        if request.endpoint != "console.login":
            return redirect(url_for("console.login", next=safe_next(auth.return_path())))
    return None


@bp.after_request
def _commit(response: Response) -> Response:
    db = g.get("db")
    if db is not None and response.status_code < 400 and not g.get("undone"):
        db.commit()
    return response


@bp.teardown_request
def _close_session(_exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.rollback()
        db.close()
