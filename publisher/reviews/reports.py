"""Parents' "Is this wrong? Tell us" reports: the checks on the form, storing a report,
and erasing reporters' email addresses after 28 days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models import ProblemReport
from publisher.reviews.contacts import normalise

WHAT: dict[str, str] = {
    "closed": "The service has closed",
    "contact": "The contact details are wrong",
    "details": "The description, ages or cost are wrong",
    "other": "Something else",
}
DETAILS_LIMIT = 2000
KEEP_EMAIL = dt.timedelta(days=28)
# A field people cannot see: only a robot fills it in.
HONEYPOT = "website"


def check_report(form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(values, errors by field)."""
    values = {
        "what": form.get("what", ""),
        "details": form.get("details", "").replace("\x00", "").strip(),
        "email": form.get("email", "").strip(),
    }
    errors: dict[str, str] = {}
    if values["what"] not in WHAT:
        errors["what"] = "Choose what is wrong"
    if len(values["details"]) > DETAILS_LIMIT:
        errors["details"] = f"Tell us in {DETAILS_LIMIT} characters or fewer"
    if values["what"] == "other" and not values["details"] and "details" not in errors:
        errors["details"] = "Tell us what is wrong"
    if values["email"] and (len(values["email"]) > 320 or normalise(values["email"]) is None):
        errors["email"] = "Enter an email address like name@example.org, or leave it empty"
    return values, errors


def store_report(session: Session, entry_pk: int, values: Mapping[str, str]) -> ProblemReport:
    report = ProblemReport(
        entry_pk=entry_pk,
        what=values["what"],
        details=values["details"],
        reporter_email=normalise(values["email"]) if values.get("email") else None,
    )
    session.add(report)
    return report


def erase_old_emails(session: Session, now: dt.datetime | None = None) -> int:
    """Reporters' addresses are kept for at most 28 days (UK GDPR: no longer than needed
    to ask them a question about their report)."""
    before = (now or utcnow()) - KEEP_EMAIL
    done = session.execute(
        update(ProblemReport)
        .where(ProblemReport.reporter_email.is_not(None), ProblemReport.created_at < before)
        .values(reporter_email=None)
    )
    return int(getattr(done, "rowcount", 0) or 0)
