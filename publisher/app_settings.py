"""Settings officers change in the console, stored in the database (table app_settings).

Keys are "<area>.<name>"; publisher.social.queue reads "social.two_person_rule" directly.
The slot and quiet-hour values are the defaults for new social accounts: each account
keeps its own (SocialAccount.slots_per_day, quiet_start_minute, quiet_end_minute).

Each key has a default and a check; ``get`` returns the default until an admin saves a
value. Changes go through ``save`` so that each one lands in the audit log.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from publisher import audit
from publisher.db import utcnow
from publisher.models.settings import AppSetting
from publisher.models.users import User

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class SettingError(ValueError):
    """A value an admin typed that cannot be used; the message says why, in plain words."""


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if str(value).strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise SettingError("Choose yes or no.")


def _slots(value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise SettingError("Posts a day must be a whole number, like 3.") from exc
    if not 1 <= number <= 24:
        raise SettingError("Posts a day must be between 1 and 24.")
    return number


def _time(value: Any) -> str:
    text = str(value).strip()
    if not _TIME.match(text):
        raise SettingError("Enter a time like 21:00 (24-hour clock).")
    return text


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    hint: str
    default: Any
    parse: Callable[[Any], Any]

    @property
    def field(self) -> str:
        """The form field's name (no dots, so it is also a good HTML id)."""
        return self.key.rsplit(".", 1)[-1]


SPECS: dict[str, SettingSpec] = {
    s.key: s
    for s in (
        SettingSpec(
            "social.two_person_rule",
            "Two-person rule",
            "If this is on, the person who last edited a post cannot approve it.",
            False,
            _bool,
        ),
        SettingSpec(
            "social.slots_per_day",
            "Posts a day for each account",
            "The most posts that go out on one account in one day.",
            3,
            _slots,
        ),
        SettingSpec(
            "social.quiet_start",
            "Quiet hours start",
            "No posts go out from this time (UK time, 24-hour clock).",
            "21:00",
            _time,
        ),
        SettingSpec(
            "newsletters.did_you_know",
            "Did you know? in monthly emails",
            "If this is on, monthly emails end with one service that is checked and open, "
            "taking age groups in turn (issue 14).",
            False,
            _bool,
        ),
        SettingSpec(
            "social.quiet_end",
            "Quiet hours end",
            "Posts can go out again from this time (UK time, 24-hour clock).",
            "07:00",
            _time,
        ),
    )
}


def get(session: Session, key: str) -> Any:
    spec = SPECS[key]
    row = session.get(AppSetting, key)
    if row is None:
        return spec.default
    try:
        return spec.parse(row.value)
    except SettingError:
        # A bad stored value must not stop posting; the default is the safe choice.
        return spec.default


def all_values(session: Session) -> dict[str, Any]:
    return {key: get(session, key) for key in SPECS}


def save(session: Session, actor: User | None, values: dict[str, Any]) -> dict[str, str]:
    """Check every value first; store them only if all are good. Returns errors by key."""
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, raw in values.items():
        spec = SPECS.get(key)
        if spec is None:
            errors[key] = "This is not a setting."
            continue
        try:
            parsed[key] = spec.parse(raw)
        except SettingError as exc:
            errors[key] = str(exc)
    if errors:
        return errors
    before = all_values(session)
    for key, value in parsed.items():
        row = session.get(AppSetting, key)
        if row is None:
            session.add(AppSetting(key=key, value=value, updated_at=utcnow()))
        elif row.value != value:
            row.value = value
            row.updated_at = utcnow()
    session.flush()
    after = all_values(session)
    if after != before:
        audit.record(session, actor, "settings.change", "settings", None, before, after)
    return {}


@dataclass(frozen=True)
class PostingRules:
    """What the posting engine needs: how many posts a day, and the quiet hours."""

    two_person_rule: bool
    slots_per_day: int
    quiet_start: dt.time
    quiet_end: dt.time


def posting_rules(session: Session) -> PostingRules:
    values = all_values(session)
    return PostingRules(
        two_person_rule=values["social.two_person_rule"],
        slots_per_day=values["social.slots_per_day"],
        quiet_start=dt.time.fromisoformat(values["social.quiet_start"]),
        quiet_end=dt.time.fromisoformat(values["social.quiet_end"]),
    )
