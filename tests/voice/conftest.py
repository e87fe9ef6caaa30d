"""Fixtures for issue 14's tests: the console's officers and app, the SMTP sink."""

from __future__ import annotations

from tests.console.conftest import app, officers, session, sign_in  # noqa: F401
from tests.mailsink import mail_sink  # noqa: F401
