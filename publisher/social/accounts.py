"""Social accounts and their credentials, kept encrypted at rest.

Credentials (access tokens, app passwords) are a JSON object encrypted with Fernet under
a key derived from the application's secret key, so a copy of the database alone does not
give them away. They are never shown back in full: ``masked_credentials`` is what the
console may display.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from publisher.audit import record
from publisher.models.social import Platform, SocialAccount
from publisher.models.users import Role, User
from publisher.social import rules
from publisher.social.errors import NotAllowed, SocialError
from publisher.social.platforms import describe

# How drafts are shaped, per account (settings): hashtags at the end of every post, how
# many changes of one kind a post may gather, and the link such a post points to.
DEFAULT_HASHTAGS = ("LocalOffer", "SEND")
MAX_GROUP = 10
_TAG = re.compile(r"\w+")


def hashtags_of(account: SocialAccount) -> list[str]:
    tags = [str(t).lstrip("#") for t in (account.settings or {}).get("hashtags", DEFAULT_HASHTAGS)]
    return [t for t in tags if t][: rules.MAX_HASHTAGS]


DRAFTING_KEYS = ("hashtags", "group_max", "group_link")
# ux (issue 13.5): which changes become drafts on an account, and whether they come one
# post each or as a weekly round-up.
DRAFT_KINDS: dict[str, str] = {
    "added": "New services",
    "closed": "Services that closed",
    "reopened": "Services open again",
    "updated": "Services with new details",
}
ROUNDUP_CHOICES: dict[str, str] = {
    "": "A post for each change (or group of changes)",
    "weekly": "One round-up post a week, on Friday morning",
}


def draft_kinds_of(account: SocialAccount) -> list[str]:
    chosen = (account.settings or {}).get("draft_kinds")
    if not isinstance(chosen, list):
        return list(DRAFT_KINDS)
    return [k for k in DRAFT_KINDS if k in chosen]


def roundup_of(account: SocialAccount) -> str:
    value = (account.settings or {}).get("roundup", "")
    return value if value in ROUNDUP_CHOICES else ""


def drafting_form(account: SocialAccount) -> dict[str, str]:
    """The account's drafting settings as the console's form shows them."""
    settings = account.settings or {}
    return {
        "hashtags": " ".join(f"#{t}" for t in hashtags_of(account)),
        "group_max": str(settings.get("group_max", 1)),
        "group_link": str(settings.get("group_link") or ""),
        # Issue 14: spotlight drafts a week (0: off); see publisher.social.spotlights.
        "spotlights_per_week": str(settings.get("spotlights_per_week", 0)),
    }


def drafting_choices(account: SocialAccount) -> dict[str, Any]:
    """The account's draft kinds and round-up choice, as the console's form shows them."""
    return {
        "draft_kinds": draft_kinds_of(account),
        "roundup": roundup_of(account),
        "kind_labels": DRAFT_KINDS,
        "roundup_labels": ROUNDUP_CHOICES,
    }


def with_drafting_choices(account: SocialAccount, form: Mapping[str, str]) -> dict[str, Any]:
    """The account's settings with the drafting choices from the console's form,
    checked, in plain words when wrong. A box missing from the form (not our page) keeps
    what is stored; an empty link means posts about several services link to the first
    one's page."""
    shown = drafting_form(account)
    hashtags, group_max, group_link = (form.get(key, shown[key]) for key in DRAFTING_KEYS)
    tags = [t.lstrip("#") for t in re.split(r"[\s,]+", hashtags.strip()) if t.strip("#")]
    if any(not _TAG.fullmatch(t) for t in tags):
        raise SocialError("Hashtags: write each one as a single word after #, like #LocalOffer.")
    if len(tags) > rules.MAX_HASHTAGS:
        raise SocialError(f"Hashtags: use at most {rules.MAX_HASHTAGS}.")
    lower = [t for t in tags if not t[:1].isupper() and not t[:1].isdigit()]
    if lower:
        raise SocialError(
            "Hashtags: start each word with a capital letter so screen readers read them "
            f"well, like #{lower[0][:1].upper()}{lower[0][1:]}."
        )
    try:
        size = int(group_max.strip())
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_GROUP:
        raise SocialError(
            f"Services in one post must be a whole number from 1 to {MAX_GROUP} "
            "(1 means a post for each service)."
        )
    link = group_link.strip()
    if link:
        parts = urlsplit(link)
        if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in link):
            raise SocialError(
                "The link for posts about several services must be a full web address "
                "starting with https://."
            )
    try:
        spotlights = int(form.get("spotlights_per_week", shown["spotlights_per_week"]).strip() or 0)
    except ValueError:
        spotlights = -1
    if not 0 <= spotlights <= 14:
        raise SocialError("Spotlights a week must be a whole number from 0 (off) to 14.")
    settings = {k: v for k, v in (account.settings or {}).items() if k != "group_link"}
    settings.update(hashtags=tags, group_max=size, spotlights_per_week=spotlights)
    if link:
        settings["group_link"] = link
    # The tick boxes say they were on the page, so that none ticked means none.
    if form.get("draft_kinds_shown"):
        getlist = getattr(form, "getlist", None)
        chosen = list(getlist("draft_kinds")) if getlist else []
        settings["draft_kinds"] = [k for k in DRAFT_KINDS if k in chosen]
    if "roundup" in form:
        roundup = form.get("roundup", "")
        if roundup not in ROUNDUP_CHOICES:
            raise SocialError("Choose how often posts are drafted from the list.")
        settings["roundup"] = roundup
    return settings


def _fernet() -> Fernet:
    from publisher.secret import secret_key

    # HKDF with a purpose label: the same secret key signs sessions elsewhere, and a
    # separate derived key keeps the two uses apart.
    raw = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"local-offer-publisher social credentials v1",
    ).derive(secret_key().encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def encrypt_credentials(values: dict[str, str]) -> bytes:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode())


def credentials(account: SocialAccount) -> dict[str, str]:
    """The decrypted credentials, for the platform adapters only."""
    if not account.credentials_encrypted:
        return {}
    try:
        data = _fernet().decrypt(account.credentials_encrypted)
    except InvalidToken as exc:
        raise SocialError(
            f"The saved credentials for {account.name} cannot be read: the secret key has "
            "changed since they were saved. Enter them again."
        ) from exc
    loaded: dict[str, str] = json.loads(data)
    return loaded


def mask(value: str) -> str:
    """Enough to recognise a token, never enough to use it."""
    if len(value) <= 8:
        return "•" * len(value)
    return "•" * 8 + value[-4:]


def masked_credentials(account: SocialAccount) -> dict[str, str]:
    return {k: mask(v) for k, v in credentials(account).items()}


def _check(platform: Platform, settings: dict[str, Any], creds: dict[str, str]) -> None:
    described = describe(platform)
    missing = [
        f.label
        for f in described.fields
        if f.required and not str((creds if f.secret else settings).get(f.name, "")).strip()
    ]
    if missing:
        raise SocialError(f"An account on {described.label} needs: {', '.join(missing)}.")
    for f in described.setting_fields:
        value = str(settings.get(f.name, "")).strip()
        if f.kind == "url" and value:
            parts = urlsplit(value)
            if parts.scheme not in ("https", "http") or not parts.netloc:
                raise SocialError(
                    f"{f.label}: write the whole address, like {f.default or 'https://example.social'}."
                )


def form_values(
    platform: Platform, form: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The platform's settings and credentials from a form, by its description's fields
    (boxes of other platforms are ignored)."""
    described = describe(platform)
    settings = {f.name: form.get(f.name, "").strip() for f in described.setting_fields}
    creds = {f.name: form.get(f.name, "") for f in described.credential_fields}
    return settings, creds


def shown_settings(account: SocialAccount) -> list[tuple[str, str]]:
    """(label, value) of the account's form fields, credentials masked, for the console."""
    masked = masked_credentials(account)
    settings = account.settings or {}
    out = []
    for f in describe(account.platform).fields:
        value = masked.get(f.name) if f.secret else settings.get(f.name)
        if value:
            out.append((f.label, str(value)))
    return out


def _require_admin(actor: User | None) -> None:
    if actor is not None and actor.role is not Role.ADMIN:
        raise NotAllowed("Only an admin can add or change social accounts.")


def account_view(account: SocialAccount) -> dict[str, Any]:
    """What the audit log and the console may show: settings and masked credentials."""
    return {
        "platform": account.platform.value,
        "name": account.name,
        "settings": dict(account.settings or {}),
        "credentials": masked_credentials(account),
        "slots_per_day": account.slots_per_day,
        "quiet_start_minute": account.quiet_start_minute,
        "quiet_end_minute": account.quiet_end_minute,
        "active": account.active,
    }


def create_account(
    session: Session,
    actor: User | None,
    platform: Platform | str,
    name: str,
    settings: dict[str, Any] | None = None,
    creds: dict[str, str] | None = None,
    *,
    slots_per_day: int = 3,
    quiet_start_minute: int = 21 * 60,
    quiet_end_minute: int = 7 * 60,
) -> SocialAccount:
    """Add an account (admins only; ``actor`` None is the CLI or a test acting as system)."""
    _require_admin(actor)
    platform = Platform(platform)
    settings = dict(settings or {})
    creds = {k: str(v) for k, v in (creds or {}).items()}
    name = name.strip()
    if not name:
        raise SocialError("Give the account a name.")
    _check(platform, settings, creds)
    _check_slots(slots_per_day, quiet_start_minute, quiet_end_minute)
    account = SocialAccount(
        platform=platform,
        name=name,
        settings=settings,
        credentials_encrypted=encrypt_credentials(creds) if creds else None,
        slots_per_day=slots_per_day,
        quiet_start_minute=quiet_start_minute,
        quiet_end_minute=quiet_end_minute,
    )
    session.add(account)
    session.flush()
    record(
        session,
        actor,
        "social_account.create",
        "social_account",
        account.id,
        None,
        account_view(account),
    )
    return account


def update_account(
    session: Session,
    actor: User | None,
    account: SocialAccount,
    *,
    settings: dict[str, Any] | None = None,
    creds: dict[str, str] | None = None,
    slots_per_day: int | None = None,
    quiet_start_minute: int | None = None,
    quiet_end_minute: int | None = None,
    active: bool | None = None,
) -> SocialAccount:
    """Change an account. Credentials given replace those stored; empty values keep the
    stored ones (the console never has them to send back)."""
    _require_admin(actor)
    before = account_view(account)
    new_settings = dict(account.settings or {}) if settings is None else dict(settings)
    new_creds = credentials(account)
    for k, v in (creds or {}).items():
        if str(v).strip():
            new_creds[k] = str(v)
    _check(account.platform, new_settings, new_creds)
    slots = account.slots_per_day if slots_per_day is None else slots_per_day
    qs = account.quiet_start_minute if quiet_start_minute is None else quiet_start_minute
    qe = account.quiet_end_minute if quiet_end_minute is None else quiet_end_minute
    _check_slots(slots, qs, qe)
    account.settings = new_settings
    account.credentials_encrypted = encrypt_credentials(new_creds) if new_creds else None
    account.slots_per_day, account.quiet_start_minute, account.quiet_end_minute = slots, qs, qe
    if active is not None:
        account.active = active
    session.flush()
    record(
        session,
        actor,
        "social_account.update",
        "social_account",
        account.id,
        before,
        account_view(account),
    )
    return account


def _check_slots(slots: int, quiet_start: int, quiet_end: int) -> None:
    if not 1 <= slots <= 48:
        raise SocialError("Posts a day must be between 1 and 48.")
    for minute in (quiet_start, quiet_end):
        if not 0 <= minute < 24 * 60:
            raise SocialError("Quiet hours must be times of day between 00:00 and 23:59.")
