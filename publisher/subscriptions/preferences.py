"""Checking what someone chose, the same way for the web form, the JSON API and CSV import."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from publisher.config import get_settings
from publisher.models import EmailFormat, Frequency, Subscriber
from publisher.topics import AGE_BAND_LABELS, CATEGORIES, NEEDS, OUT_OF_AREA, load_mapping


def locality_labels() -> dict[str, str]:
    mapping = load_mapping(get_settings().mapping_path)
    return {**mapping.locality_labels, OUT_OF_AREA: "Outside the area"}


def vocabulary() -> dict[str, dict[str, str]]:
    """Each preference's allowed slugs with their labels, in display order."""
    return {
        "age_bands": dict(AGE_BAND_LABELS),
        "needs": dict(NEEDS),
        "categories": dict(CATEGORIES),
        "localities": locality_labels(),
    }


FIELD_NAMES = {
    "age_bands": "age group",
    "needs": "area of need",
    "categories": "type of service",
    "localities": "area",
}


@dataclass(frozen=True)
class Choice:
    """Valid preferences, ready to store on a ``Subscriber``."""

    age_bands: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    localities: list[str] = field(default_factory=list)
    frequency: Frequency = Frequency.WEEKLY
    format: EmailFormat = EmailFormat.HTML
    paid_opt_in: bool = False
    # Issue 14: "You said, we did" answers in their editions (as_json names it only when
    # chosen, so records made before it look as they did).
    you_said_we_did: bool = False

    def apply_to(self, subscriber: Subscriber) -> None:
        subscriber.age_bands = list(self.age_bands)
        subscriber.needs = list(self.needs)
        subscriber.categories = list(self.categories)
        subscriber.localities = list(self.localities)
        subscriber.frequency = self.frequency
        subscriber.format = self.format
        subscriber.paid_opt_in = self.paid_opt_in
        subscriber.you_said_we_did = self.you_said_we_did

    def as_json(self) -> dict[str, Any]:
        return {
            "age_bands": list(self.age_bands),
            "needs": list(self.needs),
            "categories": list(self.categories),
            "localities": list(self.localities),
            "frequency": self.frequency.value,
            "format": self.format.value,
            "paid_opt_in": self.paid_opt_in,
        } | ({"you_said_we_did": True} if self.you_said_we_did else {})

    @classmethod
    def of(cls, subscriber: Subscriber) -> Choice:
        return cls(
            age_bands=list(subscriber.age_bands or []),
            needs=list(subscriber.needs or []),
            categories=list(subscriber.categories or []),
            localities=list(subscriber.localities or []),
            frequency=subscriber.frequency,
            format=subscriber.format,
            paid_opt_in=bool(subscriber.paid_opt_in),
            you_said_we_did=bool(subscriber.you_said_we_did),
        )


class PreferenceErrors(ValueError):
    """One message per field that was wrong: {field: message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _as_list(raw: Any) -> list[str] | None:
    """Lists from JSON, a single string, or None; anything else is not a list of slugs."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list | tuple) and all(isinstance(v, str) for v in raw):
        return list(raw)
    return None


def _slugs(name: str, raw: Any, allowed: dict[str, str], errors: dict[str, str]) -> list[str]:
    values = _as_list(raw)
    if values is None:
        errors[name] = f"Choose each {FIELD_NAMES[name]} from the list"
        return []
    cleaned = [v.strip() for v in values if v.strip()]
    unknown = [v for v in cleaned if v not in allowed]
    if unknown:
        errors[name] = (
            f"We do not know the {FIELD_NAMES[name]} {', '.join(repr(u) for u in unknown)}. "
            f"Choose from: {', '.join(allowed)}"
        )
        return []
    # Keep the vocabulary's order and drop repeats, so equal choices store equally.
    return [slug for slug in allowed if slug in cleaned]


def _flag(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if raw is None or raw == "":
        return False
    if isinstance(raw, str) and raw.strip().lower() in {"yes", "true", "on", "1"}:
        return True
    if isinstance(raw, str) and raw.strip().lower() in {"no", "false", "off", "0"}:
        return False
    return None


def parse_choice(data: dict[str, Any]) -> Choice:
    """Check ``data`` (lists of slugs, frequency, format, paid_opt_in); raise
    ``PreferenceErrors`` naming every field that was wrong."""
    errors: dict[str, str] = {}
    vocab = vocabulary()
    lists = {name: _slugs(name, data.get(name), vocab[name], errors) for name in vocab}

    frequency = Frequency.WEEKLY
    raw_freq = data.get("frequency")
    if raw_freq not in (None, ""):
        try:
            frequency = Frequency(str(raw_freq).strip().lower())
        except ValueError:
            words = [f.value for f in Frequency]
            errors["frequency"] = f"Choose how often: {', '.join(words[:-1])} or {words[-1]}"

    fmt = EmailFormat.HTML
    raw_fmt = data.get("format")
    if raw_fmt not in (None, ""):
        try:
            fmt = EmailFormat(str(raw_fmt).strip().lower())
        except ValueError:
            errors["format"] = "Choose the email type: html or text"

    paid = _flag(data.get("paid_opt_in"))
    if paid is None:
        errors["paid_opt_in"] = "Say yes or no to news about paid and outside services"
        paid = False

    if errors:
        raise PreferenceErrors(errors)
    heard = bool(_flag(data.get("you_said_we_did")))
    return Choice(frequency=frequency, format=fmt, paid_opt_in=paid, you_said_we_did=heard, **lists)


def split_values(cell: str | None) -> list[str]:
    """A CSV cell with ``;`` between values."""
    return [v.strip() for v in (cell or "").split(";") if v.strip()]


def labels_for(name: str, slugs: Iterable[str]) -> list[str]:
    allowed = vocabulary()[name]
    return [allowed.get(s, s) for s in slugs]
