"""The public home page says how fresh the Local Offer is; a provider's "still correct"
counts only with TRUST_PROVIDER_CONFIRMATIONS."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.config import reset_settings
from publisher.db import utcnow
from publisher.models import ReplyKind, Review
from publisher.reviews.measures import freshness
from publisher.web import create_app

pytestmark = pytest.mark.date_sensitive


def test_home_page_states_how_many_services_were_checked(session, directory, monkeypatch):
    # Present: a1, a2, b1, c1, n1, f1; checked within a year: a2 and f1.
    page = create_app({"TESTING": True}).test_client().get("/")
    assert "2 of 6 services were checked in the last 12 months" in page.get_data(as_text=True)
    a1 = directory["a1"]
    session.add(
        Review(
            entry_pk=a1.id,
            source_id=a1.source_id,
            entry_id="a1",
            hash_at_open="",
            reply=ReplyKind.STILL_CORRECT,
            replied_at=utcnow(),
        )
    )
    session.commit()
    assert freshness(session).checked == 2  # not trusted by default
    monkeypatch.setenv("TRUST_PROVIDER_CONFIRMATIONS", "true")
    reset_settings()
    assert (freshness(session).checked, freshness(session).total) == (3, 6)
    assert session.scalars(select(Review)).one().reply is ReplyKind.STILL_CORRECT
