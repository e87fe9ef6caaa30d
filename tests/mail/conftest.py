"""Fixtures for the mail tests."""

from tests.mailsink import mail_sink  # noqa: F401
