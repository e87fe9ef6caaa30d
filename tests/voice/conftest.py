"""Fixtures for issue 14's tests: the console's officers and app, the SMTP sink."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from publisher.newsletters import sending
from tests.console.conftest import account, app, draft, officers, session, sign_in  # noqa: F401
from tests.mailsink import mail_sink  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_sender() -> Iterator[None]:
    """Sending keeps one transport per process: never let it outlive this test's sink."""
    yield
    sending.reset_process_state()
