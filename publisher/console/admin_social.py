"""Admin page for social media accounts. Credentials go straight to
``publisher.social.accounts`` (which encrypts them) and are only ever shown masked."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from publisher import app_settings, social
from publisher.console.auth import Refused, requires
from publisher.console.views import bp, found_or_404
from publisher.models.social import Platform, SocialAccount
from publisher.social.accounts import (
    DRAFTING_KEYS,
    REQUIRED_CREDENTIALS,
    REQUIRED_SETTINGS,
    drafting_form,
    with_drafting_choices,
)
from publisher.social.errors import NotAllowed, SocialError
from publisher.social.slots import hhmm

# Every setting and credential field any platform uses, with a label for the form.
SETTING_FIELDS = {
    "api_base_url": "Server address (Mastodon), like https://mastodon.social",
    "service_url": "Server address (Bluesky), like https://bsky.social",
    "handle": "Handle (Bluesky), like council.bsky.social",
    "page_id": "Page ID (Facebook)",
}
CREDENTIAL_FIELDS = {
    "access_token": "Access token (Mastodon)",
    "app_password": "App password (Bluesky)",
    "page_access_token": "Page access token (Facebook)",
}


def _minutes(raw: str, label: str) -> int:
    try:
        hours, minutes = raw.strip().split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError as exc:
        raise SocialError(f"{label}: enter a time like 21:00.") from exc
    if not 0 <= value < 24 * 60 or not 0 <= int(minutes) < 60:
        raise SocialError(f"{label}: enter a time like 21:00.")
    return value


def _slots(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError as exc:
        raise SocialError("Posts a day must be a whole number, like 3.") from exc


def _page(form: dict[str, str] | None = None, error: str | None = None, status: int = 200) -> Any:
    accounts = g.db.scalars(select(SocialAccount).order_by(SocialAccount.name)).all()
    masked: dict[int, dict[str, str] | str] = {}
    for account in accounts:
        try:
            masked[account.id] = social.masked_credentials(account)
        except SocialError as exc:
            masked[account.id] = str(exc)
    defaults = app_settings.all_values(g.db)
    return render_template(
        "web/console/accounts.html",
        accounts=accounts,
        masked=masked,
        platforms=list(Platform),
        setting_fields=SETTING_FIELDS,
        credential_fields=CREDENTIAL_FIELDS,
        form=form
        or {
            "slots_per_day": str(defaults["social.slots_per_day"]),
            "quiet_start": defaults["social.quiet_start"],
            "quiet_end": defaults["social.quiet_end"],
        },
        error=error,
        hhmm=hhmm,
        drafting_form=drafting_form,
        drafting_keys=DRAFTING_KEYS,
    ), status


@bp.get("/admin/accounts")
@requires("admin")
def accounts_page() -> Any:
    return _page()


@bp.post("/admin/accounts")
@requires("admin")
def accounts_add() -> Any:
    keep = ["platform", "name", "slots_per_day", "quiet_start", "quiet_end", *SETTING_FIELDS]
    form = {k: request.form.get(k, "") for k in keep}
    try:
        platform = Platform(form["platform"])
    except ValueError:
        return _page(form, "Choose a platform.", 400)
    settings = {k: form[k].strip() for k in REQUIRED_SETTINGS[platform]}
    creds = {k: request.form.get(k, "") for k in REQUIRED_CREDENTIALS[platform]}
    try:
        account = social.create_account(
            g.db,
            g.user,
            platform,
            form["name"],
            settings,
            creds,
            slots_per_day=_slots(form["slots_per_day"]),
            quiet_start_minute=_minutes(form["quiet_start"], "Quiet hours start"),
            quiet_end_minute=_minutes(form["quiet_end"], "Quiet hours end"),
        )
    except NotAllowed as exc:
        raise Refused(str(exc)) from exc
    except SocialError as exc:
        g.db.rollback()
        return _page(form, str(exc), 400)
    g.db.commit()
    flash(f"Added {account.name} ({platform.value}).", "success")
    return redirect(url_for("console.accounts_page"))


@bp.post("/admin/accounts/<int:account_id>")
@requires("admin")
def accounts_update(account_id: int) -> Any:
    account = found_or_404(SocialAccount, account_id)
    creds = {k: request.form.get(k, "") for k in REQUIRED_CREDENTIALS[account.platform]}
    try:
        settings = with_drafting_choices(account, request.form)
        social.update_account(
            g.db,
            g.user,
            account,
            settings=settings,
            creds=creds,
            slots_per_day=_slots(request.form.get("slots_per_day", "")),
            quiet_start_minute=_minutes(request.form.get("quiet_start", ""), "Quiet hours start"),
            quiet_end_minute=_minutes(request.form.get("quiet_end", ""), "Quiet hours end"),
            active=request.form.get("active") == "yes",
        )
    except NotAllowed as exc:
        raise Refused(str(exc)) from exc
    except SocialError as exc:
        g.db.rollback()
        flash(f"{account.name} was not changed: {exc}", "error")
        return redirect(url_for("console.accounts_page"))
    g.db.commit()
    flash(f"Saved {account.name}.", "success")
    return redirect(url_for("console.accounts_page"))
