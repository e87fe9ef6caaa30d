"""Fixtures for the newsletter tests: the SMTP sink and the browser."""

from __future__ import annotations

from tests.mailsink import mail_sink  # noqa: F401
