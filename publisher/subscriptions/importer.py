"""Bring an existing list (CSV) in as confirmed subscribers with their consent records.

Each row is checked on its own: good rows are imported, bad ones reported with their
row number and reason, and nothing already stored is changed by a bad row.
Columns: email, age_bands, needs, categories, localities, frequency, consent_source,
consented_at; ``;`` between values in the list columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models import ConsentRecord, ConsentSource, Subscriber, SubscriberStatus
from publisher.subscriptions import consent
from publisher.subscriptions.addresses import InvalidAddress, normalise_email
from publisher.subscriptions.lifecycle import find_by_email, suppression_reason
from publisher.subscriptions.preferences import PreferenceErrors, parse_choice, split_values

COLUMNS = (
    "email",
    "age_bands",
    "needs",
    "categories",
    "localities",
    "frequency",
    "consent_source",
    "consented_at",
)
REQUIRED = ("email", "consented_at")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (wrong columns, not CSV): nothing was imported."""


@dataclass(frozen=True)
class Rejected:
    row: int  # line number in the file (the header is line 1)
    email: str
    reason: str


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def parse_when(raw: str, now: dt.datetime) -> dt.datetime:
    """ISO 8601 date or date-time; a time without a zone is read as UTC."""
    text = raw.strip()
    if not text:
        raise ValueError("consented_at is empty: we need the date they agreed")
    try:
        if len(text) == 10:
            value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)
        else:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise ValueError(
            f"consented_at {text!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"
        ) from exc
    if value > now + dt.timedelta(minutes=5):
        raise ValueError(f"consented_at {text!r} is in the future")
    return value.astimezone(dt.UTC)


def import_csv(
    session: Session, stream: IO[str], *, now: dt.datetime | None = None
) -> ImportReport:
    now = now or utcnow()
    text = stream.read()
    if text.startswith("\ufeff"):  # spreadsheets often save a byte order mark
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(
            f"the first line must name the columns; missing: {', '.join(missing)} "
            f"(expected {', '.join(COLUMNS)})"
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ImportFileError(
            f"unknown columns: {', '.join(unknown)} (expected {', '.join(COLUMNS)})"
        )
    reader.fieldnames = header

    report = ImportReport()
    seen: set[str] = set()
    for raw in reader:
        line = reader.line_num
        row = {k: (v or "") for k, v in raw.items() if k is not None}
        given = row.get("email", "").strip()
        if None in raw:
            report.rejected.append(Rejected(line, given, "more values than columns"))
            continue
        try:
            email = normalise_email(given)
        except InvalidAddress as exc:
            report.rejected.append(Rejected(line, given, f"bad address: {exc}"))
            continue
        try:
            choice = parse_choice(
                {
                    "age_bands": split_values(row.get("age_bands")),
                    "needs": split_values(row.get("needs")),
                    "categories": split_values(row.get("categories")),
                    "localities": split_values(row.get("localities")),
                    "frequency": row.get("frequency", ""),
                }
            )
        except PreferenceErrors as exc:
            reasons = "; ".join(exc.errors.values())
            report.rejected.append(Rejected(line, email, f"unknown preference value: {reasons}"))
            continue
        try:
            consented_at = parse_when(row.get("consented_at", ""), now)
        except ValueError as exc:
            report.rejected.append(Rejected(line, email, f"bad date: {exc}"))
            continue
        if email in seen:
            report.rejected.append(Rejected(line, email, "this address is already in the file"))
            continue
        if suppression_reason(session, email) is not None:
            report.rejected.append(
                Rejected(line, email, "suppressed: this address left or asked us not to email it")
            )
            continue
        if find_by_email(session, email) is not None:
            report.rejected.append(Rejected(line, email, "already on our list"))
            continue
        seen.add(email)
        wording = consent.import_wording(row.get("consent_source", "").strip())
        subscriber = Subscriber(
            email=email,
            status=SubscriberStatus.ACTIVE,
            created_at=now,
            requested_at=consented_at,
            confirmed_at=consented_at,
        )
        choice.apply_to(subscriber)
        subscriber.consents.append(
            ConsentRecord(
                wording_version=consent.IMPORT_VERSION,
                wording=wording,
                wording_sha256=consent.wording_sha256(wording),
                source=ConsentSource.CSV_IMPORT,
                preferences=choice.as_json(),
                paid_opt_in=False,
                requested_at=consented_at,
                confirmed_at=consented_at,
            )
        )
        session.add(subscriber)
        report.imported += 1
    session.flush()
    return report
