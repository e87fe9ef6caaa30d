"""Fixtures for the newsletter tests: the SMTP sink, subscribers and changes."""

from __future__ import annotations

from tests.mailsink import mail_sink  # noqa: F401
