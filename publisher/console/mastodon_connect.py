"""ux (issue 13.6): "Connect with Mastodon" on the accounts page: the server's own
sign-in (``publisher.social.mastodon_oauth``) instead of pasting a token. The ``state``
travels in the officer's signed session cookie, so a callback nobody started is refused."""

from __future__ import annotations

import hmac
from typing import Any

from flask import flash, g, redirect, request, session, url_for

from publisher.console.auth import requires
from publisher.console.blueprint import bp, found_or_404, undo_changes
from publisher.models.social import SocialAccount
from publisher.social import mastodon_oauth
from publisher.social.errors import SocialError

STATE_KEY = "mastodon_oauth"


def _callback_url() -> str:
    return url_for("console.mastodon_callback", _external=True)


@bp.post("/admin/accounts/<int:account_id>/connect")
@requires("admin")
def mastodon_connect(account_id: int) -> Any:
    account = found_or_404(SocialAccount, account_id)
    try:
        started = mastodon_oauth.start(g.db, g.user, account, _callback_url())
    except SocialError as exc:
        undo_changes()
        flash(f"Could not connect {account.name}: {exc}", "error")
        return redirect(url_for("console.accounts_page"))
    session[STATE_KEY] = {"state": started.state, "account": account.id}
    return redirect(started.authorize_url)


@bp.get("/admin/accounts/mastodon/callback")
@requires("admin")
def mastodon_callback() -> Any:
    expected = session.pop(STATE_KEY, None) or {}
    given = request.args.get("state", "")
    if not expected or not hmac.compare_digest(str(expected.get("state", "")), given):
        flash("That sign-in was not started here, or has been used. Press Connect again.", "error")
        return redirect(url_for("console.accounts_page"))
    account = found_or_404(SocialAccount, int(expected["account"]))
    if request.args.get("error"):
        flash(f"{account.name} was not connected: the sign-in was cancelled.", "error")
        return redirect(url_for("console.accounts_page"))
    try:
        mastodon_oauth.finish(g.db, g.user, account, request.args.get("code", ""))
    except SocialError as exc:
        undo_changes()
        flash(f"Could not connect {account.name}: {exc}", "error")
        return redirect(url_for("console.accounts_page"))
    flash(f"Connected {account.name} to Mastodon. Posts can go out now.", "success")
    return redirect(url_for("console.accounts_page"))
