"""Email addresses: one normal form for storing, comparing and hashing."""

from __future__ import annotations

import hashlib

from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    """Not an email address we can send to; the message is fit to show the person."""


def normalise_email(raw: str) -> str:
    """The address as we store it: checked by email-validator (syntax only, no DNS, so that
    it works offline and gives the same answer every time), then lower-cased so that
    ``Sam@Example.org`` and ``sam@example.org`` are one subscriber."""
    text = (raw or "").strip()
    if not text:
        raise InvalidAddress("Enter your email address")
    if len(text) > 320:
        raise InvalidAddress("Email address is too long")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(
            "Enter an email address in the right format, like name@example.com"
        ) from exc
    return checked.normalized.lower()


def email_sha256(normalised: str) -> str:
    """The suppression key: sha256 of the normalised address (hex)."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
