"""What counts as a change, and the snapshot each change carries.

Pure functions: no database, no network. ``publisher.ingest`` applies them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from publisher.change_words import details_for
from publisher.models import Entry, Source

# Fields whose difference is a material change, in the order we report them.
MATERIAL_FIELDS: tuple[str, ...] = (
    "name",
    "summary",
    "url",
    "email",
    "status",
    "minimum_age",
    "maximum_age",
    "assured_date",
    "organisation",
    "addresses",
    "postcodes",
    "service_areas",
    "costs",
    "taxonomy_terms",
    "opening_times",
)
# Changes to these alone are logged but are not news (a re-check of the same details).
BOOKKEEPING_FIELDS: frozenset[str] = frozenset({"assured_date"})
CLOSED_STATUSES: frozenset[str] = frozenset({"inactive", "defunct"})
# Changed fields as a family would name them (emails, feeds and posts all say the same).
FIELD_WORDS: dict[str, str] = {
    "name": "name",
    "summary": "description",
    "url": "website",
    "email": "email address",
    "status": "whether it is open",
    "minimum_age": "ages",
    "maximum_age": "ages",
    "organisation": "who runs it",
    "addresses": "address",
    "postcodes": "address",
    "service_areas": "areas it covers",
    "costs": "costs",
    "opening_times": "opening times",
    "taxonomy_terms": "type of service",
}


def changed_words(fields: list[str] | tuple[str, ...]) -> list[str]:
    """Plain words for changed fields, once each, in the order given."""
    return list(dict.fromkeys(FIELD_WORDS[f] for f in fields if f in FIELD_WORDS))


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def page_url(source: Source, entry_id: str, fallback: str | None) -> str | None:
    """The service's page on the council's Local Offer site, else the provider's own site."""
    if source.page_url_template:
        # The id is the directory's, not ours: encoded whole, it stays one path segment
        # (no "../", "?", spaces or a second address can ride in on it).
        return source.page_url_template.replace("{id}", quote(entry_id, safe=""))
    return fallback


def snapshot_of(entry: Entry, source: Source) -> dict[str, Any]:
    """The entry as consumers need it to describe a change, in JSON-ready values."""
    return {
        "source": source.name,
        "entry_id": entry.entry_id,
        "name": entry.name,
        "summary": entry.summary,
        "url": entry.url,
        "page_url": page_url(source, entry.entry_id, entry.url),
        "email": entry.email,
        "status": entry.status,
        "minimum_age": entry.minimum_age,
        "maximum_age": entry.maximum_age,
        "assured_date": jsonable(entry.assured_date),
        "organisation": entry.organisation,
        "postcodes": list(entry.postcodes or []),
        "service_areas": list(entry.service_areas or []),
        "costs": list(entry.costs or []),
        "opening_times": entry.opening_times or None,
        "paid": bool(entry.paid),
        "age_bands": list(entry.age_bands or []),
        "needs": list(entry.needs or []),
        "categories": list(entry.categories or []),
        "localities": list(entry.localities or []),
        "stale": bool(entry.stale),
        "present": bool(entry.present),
    }


def diff_fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Material fields that differ, and what the difference was (publisher.change_words)."""
    changed = [f for f in MATERIAL_FIELDS if old.get(f) != new.get(f)]
    # Old and new values of short fields; what was added or taken out of the others.
    return changed, details_for(old, new, changed)


def is_notable(changed: list[str]) -> bool:
    return any(f not in BOOKKEEPING_FIELDS for f in changed)


def is_stale(assured: dt.date | None, today: dt.date, stale_after_days: int) -> bool:
    """Not checked for longer than the limit; an entry never checked counts as stale,
    since we cannot vouch for it."""
    return assured is None or (today - assured).days > stale_after_days
