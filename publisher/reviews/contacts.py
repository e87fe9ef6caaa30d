"""Where to ask about an entry: its own email, else a contact's (ORUK 3.0 ``contacts``),
else its organisation's (``organization.email``, in v1 and 3.0)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from email_validator import EmailNotValidError, validate_email

MAX_ADDRESS = 320


def normalise(value: object) -> str | None:
    """A usable address in lower case, or None. Directory data is hostile: anything odd
    (not text, too long, no valid syntax) is no address at all."""
    if not isinstance(value, str):
        return None
    return _normalise(value)


# A provider's address repeats on each of its entries (dozens, in real directories):
# checking each distinct one once keeps planning fast.
@lru_cache(maxsize=8192)
def _normalise(value: str) -> str | None:
    value = value.strip()
    if not value or len(value) > MAX_ADDRESS or "@" not in value:
        return None
    try:
        return str(validate_email(value, check_deliverability=False).normalized).lower()
    except EmailNotValidError:
        return None


def contact_address(entry_email: str | None, record: dict[str, Any] | None) -> str | None:
    """The address review requests for this entry go to, or None."""
    found = normalise(entry_email)
    if found:
        return found
    if not isinstance(record, dict):
        return None
    contacts = record.get("contacts")
    if isinstance(contacts, list):
        for contact in contacts[:50]:
            if isinstance(contact, dict):
                found = normalise(contact.get("email"))
                if found:
                    return found
    org = record.get("organization")
    if isinstance(org, dict):
        return normalise(org.get("email"))
    return None
