"""One raw ORUK service record (v1 or v3) -> one validated, normalised record.

Validation is per record: a record we cannot trust raises ``RecordError`` with a reason
a Local Offer manager can act on, and the crawl quarantines it while the records beside
it go on. Small faults that do not make a record untrustworthy (an email address that
is not an address, a URL without a scheme) are dropped rather than published.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

from publisher.changes import MATERIAL_FIELDS
from publisher.sources.opening_times import opening_times
from publisher.sources.text import clean_text, description_text, single_line, without_invisible
from publisher.topics import normalise_postcode

STATUSES = frozenset({"active", "inactive", "defunct", "temporarily closed"})
# Keys that only a full (detail) record carries; a list item without any of them is a summary.
NESTED_KEYS = frozenset(
    {
        "service_at_locations",
        "attributes",
        "service_taxonomys",
        "eligibilitys",
        "cost_options",
        "service_areas",
        "schedules",
        "regular_schedules",
        "contacts",
        "locations",
    }
)
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_MONEY = re.compile(r"£\s?\d")


class RecordError(ValueError):
    """A record we refuse, with the reason."""


@dataclass(frozen=True)
class NormalisedRecord:
    entry_id: str
    name: str
    summary: str
    url: str | None
    email: str | None
    status: str
    minimum_age: int | None
    maximum_age: int | None
    assured_date: dt.date | None
    last_modified: dt.datetime | None
    organisation: str | None
    addresses: list[str]
    postcodes: list[str]
    service_areas: list[str]
    costs: list[str]
    paid: bool
    taxonomy_terms: list[str]
    opening_times: str  # "" when the directory gives none (publisher.sources.opening_times)

    def material(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in MATERIAL_FIELDS}

    def content_hash(self) -> str:
        return digest(self.material())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# One encoder, made once: json.dumps would build a new one for every record.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def digest(value: Any) -> str:
    """A stable hash of JSON-like data: key order and spacing do not change it."""
    return hashlib.sha256(_CANONICAL.encode(value).encode("utf-8")).hexdigest()


def without_nul(value: Any) -> Any:
    """The same JSON-like value without what PostgreSQL cannot store in text or JSONB:
    NUL characters (real feeds do carry them) and NaN or infinite numbers (Python's JSON
    reader accepts them)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    return value


def record_key(raw: Any, position: int) -> str:
    """The id used to name a record in the quarantine, even when its id is unusable."""
    if isinstance(raw, dict):
        rid = raw.get("id")
        if isinstance(rid, str) and without_nul(rid).strip():
            return str(without_nul(rid)).strip()[:255]
        if isinstance(rid, int) and not isinstance(rid, bool):
            return str(rid)
    return f"#{position}"


def list_stamp(raw: dict[str, Any]) -> str | None:
    """The list-level "last changed" value: v3 ``last_modified`` or Placecube's extension."""
    stamp = raw.get("last_modified")
    if not (isinstance(stamp, str) and stamp.strip()):
        meta = raw.get("pc_metadata")
        stamp = meta.get("date_modified") if isinstance(meta, dict) else None
    return stamp.strip()[:64] if isinstance(stamp, str) and stamp.strip() else None


def is_summary(raw: dict[str, Any]) -> bool:
    return not (NESTED_KEYS & raw.keys())


# --- field readers: each returns a clean value or raises RecordError ---------------


def _text(raw: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise RecordError(f"missing {key}")
        return None
    if not isinstance(value, str):
        raise RecordError(f"{key} must be text, not {_type(value)}")
    cleaned = clean_text(value)
    if not cleaned:
        if required:
            raise RecordError(f"missing {key}")
        return None
    return cleaned


def _type(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _age(value: Any, key: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError(f"{key} must be a number, not true/false")
    if isinstance(value, int):
        age = value
    elif isinstance(value, float) and value.is_integer():
        age = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        age = int(value.strip())
    else:
        raise RecordError(f"{key} must be a whole number, not {value!r}")
    if not 0 <= age <= 150:
        raise RecordError(f"{key} {age} is not a possible age")
    return age


def _ages(raw: dict[str, Any]) -> tuple[int | None, int | None]:
    lo = _age(raw.get("minimum_age"), "minimum_age")
    hi = _age(raw.get("maximum_age"), "maximum_age")
    # ORUK v1 keeps ages inside eligibility records.
    eligibilities = raw.get("eligibilitys")
    if eligibilities not in (None, ""):
        if not isinstance(eligibilities, list):
            raise RecordError("eligibilitys must be a list")
        for item in eligibilities:
            if not isinstance(item, dict):
                continue
            e_lo = _age(item.get("minimum_age"), "eligibility minimum_age")
            e_hi = _age(item.get("maximum_age"), "eligibility maximum_age")
            if e_lo is not None:
                lo = e_lo if lo is None else min(lo, e_lo)
            if e_hi is not None:
                hi = e_hi if hi is None else max(hi, e_hi)
    return lo, hi


def _date(value: Any, key: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{key} must be a date in text, not {_type(value)}")
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None  # unreadable dates count as unknown (and so as not checked)


def _datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _list(raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise RecordError(f"{key} must be a list, not {_type(value)}")
    return value


def _url(value: str | None) -> str | None:
    if value and _URL.match(value):
        return value
    return None


def _email(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _addresses(raw: dict[str, Any]) -> tuple[list[str], list[str]]:
    locations: list[dict[str, Any]] = []
    for sal in _list(raw, "service_at_locations"):
        if isinstance(sal, dict) and isinstance(sal.get("location"), dict):
            locations.append(sal["location"])
    locations.extend(loc for loc in _list(raw, "locations") if isinstance(loc, dict))
    addresses: list[str] = []
    postcodes: list[str] = []
    for loc in locations:
        for key in ("addresses", "physical_addresses"):
            items = loc.get(key)
            if not isinstance(items, list):
                continue
            for addr in items:
                if not isinstance(addr, dict):
                    continue
                parts = [
                    single_line(str(addr[k]))
                    for k in ("address_1", "address_2", "city", "postal_code")
                    if isinstance(addr.get(k), str | int) and str(addr[k]).strip()
                ]
                line = ", ".join(p for p in parts if p)
                if line and line not in addresses:
                    addresses.append(line)
                postcode = normalise_postcode(str(addr.get("postal_code") or ""))
                if postcode and postcode not in postcodes:
                    postcodes.append(postcode)
    return addresses, sorted(postcodes)


def _service_areas(raw: dict[str, Any]) -> list[str]:
    areas = []
    for area in _list(raw, "service_areas"):
        if isinstance(area, dict):
            text = area.get("service_area") or area.get("name")
            if isinstance(text, str) and text.strip():
                areas.append(single_line(text))
    return sorted(set(areas))


def _costs(raw: dict[str, Any], summary: str) -> tuple[list[str], bool]:
    costs = []
    paid = False
    for option in _list(raw, "cost_options"):
        if not isinstance(option, dict):
            continue
        amount = option.get("amount")
        if isinstance(amount, int | float) and not isinstance(amount, bool) and amount > 0:
            paid = True
        parts = [
            single_line(str(option[k]))
            for k in ("option", "amount", "amount_description")
            if option.get(k) not in (None, "")
        ]
        if parts:
            costs.append(" ".join(parts))
    fees = raw.get("fees")
    if isinstance(fees, str) and fees.strip():
        fees_text = single_line(fees)
        costs.append(fees_text)
        paid = paid or bool(_MONEY.search(fees_text))
    # Descriptions often carry the only price ("£10 an hour").
    paid = paid or bool(_MONEY.search(summary))
    return sorted(set(costs)), paid


def _taxonomy_terms(raw: dict[str, Any]) -> list[str]:
    terms: set[str] = set()
    for attr in _list(raw, "attributes"):
        term = attr.get("taxonomy_term") if isinstance(attr, dict) else None
        if isinstance(term, dict):
            for key in ("name", "term"):
                if isinstance(term.get(key), str) and term[key].strip():
                    terms.add(single_line(term[key]))
    for link in _list(raw, "service_taxonomys"):
        tax = link.get("taxonomy") if isinstance(link, dict) else None
        if isinstance(tax, dict) and isinstance(tax.get("name"), str) and tax["name"].strip():
            terms.add(single_line(tax["name"]))
    for audience in _list(raw, "pc_targetAudience"):
        if isinstance(audience, str) and audience.strip():
            terms.add(single_line(audience))
        elif isinstance(audience, dict) and isinstance(audience.get("name"), str):
            terms.add(single_line(audience["name"]))
    return sorted(terms)


def normalise(raw: Any) -> NormalisedRecord:
    """Validate and normalise one service record; raise RecordError with the reason."""
    if not isinstance(raw, dict):
        raise RecordError(f"record must be an object, not {_type(raw)}")
    rid = raw.get("id")
    if isinstance(rid, int) and not isinstance(rid, bool):
        rid = str(rid)
    if rid is None or rid == "":
        raise RecordError("missing id")
    if not isinstance(rid, str):
        raise RecordError(f"id must be text, not {_type(rid)}")
    entry_id = rid.strip()
    if not entry_id or len(entry_id) > 255:
        raise RecordError("id must be 1 to 255 characters")
    if (
        any(ord(c) < 32 or ord(c) == 127 for c in entry_id)
        or without_invisible(entry_id) != entry_id
    ):
        raise RecordError("id contains control characters")

    # Names and short fields are one line, without control or bidi characters, capped:
    # they go into email subjects and headers, feed titles, posts and CSV cells.
    name = _text(raw, "name", required=True)
    name = single_line(name) if name else name
    if not name:
        raise RecordError("missing name")
    status_raw = raw.get("status")
    if status_raw is None or status_raw == "":
        raise RecordError("missing status")
    if not isinstance(status_raw, str):
        raise RecordError(f"status must be text, not {_type(status_raw)}")
    status = " ".join(status_raw.lower().replace("_", " ").split())
    if status not in STATUSES:
        raise RecordError(
            f"unknown status {status_raw!r} (expected one of {', '.join(sorted(STATUSES))})"
        )

    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        raise RecordError(f"description must be text, not {_type(description)}")
    summary = description_text(description) if description else ""

    url = _url(_text(raw, "url"))
    email = _email(_text(raw, "email"))
    minimum_age, maximum_age = _ages(raw)

    pc_metadata = raw.get("pc_metadata")
    meta: dict[str, Any] = pc_metadata if isinstance(pc_metadata, dict) else {}
    assured = _date(raw.get("assured_date"), "assured_date") or _date(
        meta.get("date_assured"), "pc_metadata.date_assured"
    )
    last_modified = _datetime(raw.get("last_modified")) or _datetime(meta.get("date_modified"))

    organisation = None
    org = raw.get("organization")
    if isinstance(org, dict) and isinstance(org.get("name"), str) and org["name"].strip():
        organisation = single_line(org["name"])
    elif org not in (None, "") and not isinstance(org, dict):
        raise RecordError(f"organization must be an object, not {_type(org)}")

    addresses, postcodes = _addresses(raw)
    costs, paid = _costs(raw, summary)
    assert name is not None
    return NormalisedRecord(
        entry_id=entry_id,
        name=name,
        summary=summary,
        url=url,
        email=email,
        status=status,
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        assured_date=assured,
        last_modified=last_modified,
        organisation=organisation,
        addresses=addresses,
        postcodes=postcodes,
        service_areas=_service_areas(raw),
        costs=costs,
        paid=paid,
        taxonomy_terms=_taxonomy_terms(raw),
        opening_times=opening_times(raw) or "",
    )
