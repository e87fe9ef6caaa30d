"""Admin page for social media accounts. Credentials go straight to
``publisher.social.accounts`` (which encrypts them) and are only ever shown masked."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from publisher import app_settings, social
from publisher.console.auth import Refused, requires
from publisher.console.blueprint import bp, found_or_404, undo_changes
from publisher.models.social import SocialAccount
from publisher.social.accounts import (
    DRAFTING_KEYS,
    drafting_choices,
    drafting_form,
    form_values,
    shown_settings,
    with_drafting_choices,
)
from publisher.social.errors import NotAllowed, SocialError
from publisher.social.platforms import Description, describe, descriptions
from publisher.social.slots import hhmm


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


def _page() -> Any:
    accounts = g.db.scalars(select(SocialAccount).order_by(SocialAccount.name)).all()
    shown: dict[int, list[tuple[str, str]] | str] = {}
    for account in accounts:
        try:
            shown[account.id] = shown_settings(account)
        except SocialError as exc:
            shown[account.id] = str(exc)
    return render_template(
        "web/console/accounts.html",
        accounts=accounts,
        shown=shown,
        platforms=descriptions(),
        hhmm=hhmm,
        drafting_form=drafting_form,
        drafting_keys=DRAFTING_KEYS,
        drafting_choices=drafting_choices,
    )


def _new_page(
    described: Description, form: dict[str, str] | None = None, error: str | None = None
) -> Any:
    """The add-account form, with the chosen platform's fields only."""
    defaults = app_settings.all_values(g.db)
    values = form or {
        "slots_per_day": str(defaults["social.slots_per_day"]),
        "quiet_start": defaults["social.quiet_start"],
        "quiet_end": defaults["social.quiet_end"],
        **{f.name: f.default for f in described.setting_fields},
    }
    return render_template(
        "web/console/account_new.html", platform=described, form=values, error=error
    ), (400 if error else 200)


@bp.get("/admin/accounts")
@requires("admin")
def accounts_page() -> Any:
    return _page()


@bp.get("/admin/accounts/new/<platform>")
@requires("admin")
def accounts_new(platform: str) -> Any:
    try:
        described = describe(platform)
    except ValueError:
        return redirect(url_for("console.accounts_page"))
    return _new_page(described)


@bp.post("/admin/accounts")
@requires("admin")
def accounts_add() -> Any:
    try:
        described = describe(request.form.get("platform", ""))
    except ValueError:
        flash("Choose a platform from the list.", "error")
        return redirect(url_for("console.accounts_page"))
    keep = ["name", "slots_per_day", "quiet_start", "quiet_end"]
    keep += [f.name for f in described.setting_fields]
    form = {k: request.form.get(k, "") for k in keep}
    settings, creds = form_values(described.platform, request.form)
    try:
        account = social.create_account(
            g.db,
            g.user,
            described.platform,
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
        undo_changes()
        return _new_page(described, form, str(exc))
    flash(f"Added {account.name} ({described.label}).", "success")
    return redirect(url_for("console.accounts_page"))


@bp.post("/admin/accounts/<int:account_id>")
@requires("admin")
def accounts_update(account_id: int) -> Any:
    account = found_or_404(SocialAccount, account_id)
    _, creds = form_values(account.platform, request.form)
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
        undo_changes()
        flash(f"{account.name} was not changed: {exc}", "error")
        return redirect(url_for("console.accounts_page"))
    flash(f"Saved {account.name}.", "success")
    return redirect(url_for("console.accounts_page"))
