"""A held crawl on the console's Sources page: what officers see, and the Confirm button
(admins only, audited, permission for the next crawl and no more)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import AuditEvent, Crawl, CrawlStatus, Source, SourceKind
from tests.browser import assert_accessible
from tests.console.test_browser import sign_in_by_keyboard

PAGE = "/console/admin/sources"


def _held_source(session: Session) -> Source:
    source = Source(
        name="north", location="https://directory.example.gov.uk/api", kind=SourceKind.ORUK_API
    )
    session.add(source)
    session.flush()
    now = dt.datetime.now(dt.UTC)
    session.add(
        Crawl(
            source_id=source.id,
            started_at=now,
            finished_at=now,
            status=CrawlStatus.HELD,
            error="held: 368 would be removed",
            counts={"seen": 368, "would_remove": 368, "present": 736},
        )
    )
    session.commit()
    return source


def test_officers_see_a_held_crawl_and_admins_confirm_it(sign_in, session):
    source = _held_source(session)
    approver = sign_in("approver")
    forbidden = approver.post(f"{PAGE}/{source.id}/confirm-removals", page="/console/posts")
    assert forbidden.status_code == 403
    admin = sign_in("admin")
    text = admin.get(PAGE).get_data(as_text=True)
    assert "Held: 368 services would be removed." in text
    assert "Confirm 368 removals" in text
    done = admin.post(f"{PAGE}/{source.id}/confirm-removals", page=PAGE)
    assert done.status_code == 302
    session.expire_all()
    confirmed = session.get(Source, source.id)
    assert confirmed is not None and confirmed.removals_confirmed == 368
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "source.confirm_removals")
    ).one()
    assert event.before == {"removals_confirmed": None}
    assert event.after == {"removals_confirmed": 368}
    after = admin.get(PAGE).get_data(as_text=True)
    assert "The next crawl may remove up to 368 (confirmed)." in after
    # Nothing to confirm once a crawl was not held.
    session.add(Crawl(source_id=source.id, status=CrawlStatus.COMPLETE, counts={"removed": 368}))
    session.commit()
    again = admin.post(f"{PAGE}/{source.id}/confirm-removals", page=PAGE, follow_redirects=True)
    assert "its last crawl was not held" in again.get_data(as_text=True)


def test_the_held_crawl_reads_well_at_every_width(session, officers, app, live_app, browser):
    _held_source(session)
    server = live_app(app)
    page = browser.new_page()
    sign_in_by_keyboard(page, server.url, "admin@council.example")
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(server.url + PAGE)
        assert_accessible(page)
        page.screenshot(path=str(shots / f"sources-held-{width}.png"), full_page=True)
        # Nothing wider than the screen at 320 px (WCAG 1.4.10 reflow).
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    page.get_by_role("button", name="Confirm 368 removals from north").click()
    page.get_by_text("Confirmed. The next crawl of north").wait_for()
    assert_accessible(page)
