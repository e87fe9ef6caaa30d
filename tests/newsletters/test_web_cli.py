"""The public web version of an edition and the archive (checked in Chromium with
axe-core, and for personal data), the email HTML's accessibility, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.models import Frequency
from publisher.newsletters import editions, sending
from publisher.newsletters.rendering import edition_view, render_variant
from publisher.web import create_app
from tests.browser import assert_accessible, assert_landmarks, check_widths
from tests.clock import Clock
from tests.mailsink import MailSink
from tests.newsletters.helpers import change, parse, parts, source, subscriber

NOW = dt.datetime(2026, 11, 27, 7, 30, tzinfo=dt.UTC)

pytestmark = pytest.mark.date_sensitive


@pytest.fixture(autouse=True)
def _at_now(clock: Clock) -> None:
    # The CLI reads the real clock: fix it at NOW, the Friday the edition closes.
    clock.set(NOW)


def _edition(session: Any) -> None:
    src = source(session)
    at = NOW - dt.timedelta(days=2)
    change(
        session,
        src,
        "a",
        "Sensory <Garden> & Café",
        at=at,
        minimum_age=0,
        maximum_age=11,
        summary="A quiet garden for children who find noise hard.",
    )
    change(
        session,
        src,
        "b",
        "Moving On Club",
        at=at,
        minimum_age=16,
        maximum_age=25,
        categories=["preparing-for-adulthood"],
    )
    # Chose a need, and neither service names one: the email says why they are there.
    subscriber(
        session, "secret.parent@example.org", age_bands=["16-25"], needs=["sensory-physical"]
    )


@pytest.mark.browser
def test_web_version_and_archive_are_accessible_and_anonymous(
    db: Any,
    browser: Any,
    live_app: Any,
    mail_sink: MailSink,
) -> None:
    with session_scope() as session:
        _edition(session)

    def _send_here(edition_id: int, ids: list[int]) -> None:
        sending.send_batch(edition_id, ids)

    result = editions.run_edition(Frequency.WEEKLY, _send_here, now=NOW)
    sending.reset_process_state()
    server = live_app(create_app({"TESTING": True}))
    page = browser.new_page()
    try:
        page.goto(f"{server.url}/newsletters")
        assert_accessible(page)
        assert_landmarks(page)
        page.get_by_role("link", name="Weekly news").first.click()
        assert page.url.endswith(f"/newsletters/{result.edition_id}")
        assert_accessible(page)
        assert_landmarks(page)
        # Each article is named by its own heading, so screen readers list them apart.
        names = page.locator("article").evaluate_all(
            "els => els.map(e => document.getElementById("
            "e.getAttribute('aria-labelledby')).textContent.trim())"
        )
        assert len(names) == 2 and len(set(names)) == 2
        content = page.content()
        assert "secret.parent" not in content
        assert page.get_by_role("heading", name="16-25: preparing for adulthood").count() == 1
        assert page.get_by_role("link", name="Sensory <Garden> & Café").count() == 1
        # Said once above the list (checked by axe with the rest of the page).
        said = page.get_by_text("No need is listed for these services")
        assert said.count() == 1
        assert page.get_by_role("listitem").filter(has_text="Moving On Club").count() == 1
        # The email's own HTML, opened as a page.
        html = parts(parse(mail_sink.messages[0].data))[1]
        assert html is not None
        assert html.count("No need is listed for this service, so we include it for everyone.") == 1
        page.set_content(html)
        assert_accessible(page)
        check_widths(page, "edition-email")
    finally:
        page.close()
    client = create_app({"TESTING": True}).test_client()
    assert client.get("/newsletters/999999").status_code == 404


def test_text_part_is_not_html_escaped(db: Any) -> None:
    with session_scope() as session:
        _edition(session)
    result = editions.run_edition(Frequency.WEEKLY, lambda e, ids: None, now=NOW)
    with session_scope() as session:
        from publisher.models import Edition

        edition = session.get(Edition, result.edition_id)
        assert edition is not None
        view = edition_view(
            edition.id, edition.frequency, edition.window_start, edition.window_end, edition.items
        )
    rendered = render_variant(view, list(range(len(view.items))), True, 30, True)
    text, html = rendered.personalise("https://m.example/1?a=1&b=2", "https://u.example/1")
    assert "Sensory <Garden> & Café" in text
    assert "&lt;" not in text
    assert html is not None and "Sensory &lt;Garden&gt; &amp; Café" in html
    assert "https://m.example/1?a=1&b=2" in text and "https://m.example/1?a=1&amp;b=2" in html
    assert "\x00" not in text + html  # every item's marker was replaced


def test_cli_run_and_list(db: Any, mail_sink: MailSink) -> None:
    with session_scope() as session:
        _edition(session)
    runner = CliRunner()
    # Nothing due yet for a frequency with no edition closing before the change.
    out = runner.invoke(main, ["editions", "run", "weekly", "--now", "--json"])
    assert out.exit_code == 0, out.output
    ran = json.loads(out.stdout)
    assert ran["result"] == "built" and ran["recipients"] == 1 and ran["sent"] == 1
    assert len(mail_sink.messages) == 1
    again = runner.invoke(main, ["editions", "run", "weekly"])
    assert again.exit_code == 0 and "No edition is due yet" in again.output
    listed = runner.invoke(main, ["editions", "list", "--json"])
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["recipients"], row["sent"], row["failed"], row["items"]) == (1, 1, 0, 2)
    table = runner.invoke(main, ["editions", "list"])
    assert "weekly" in table.output and table.exit_code == 0
    bad = runner.invoke(main, ["editions", "run", "fortnightly"])
    assert bad.exit_code == 2 and "fortnightly" in bad.output


def test_cli_reports_a_down_server_and_keeps_work_pending(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_URL", MailSink().url)  # nothing listens there
    reset_settings()  # settings are read once (tests/settings_env.py)
    with session_scope() as session:
        _edition(session)
    out = CliRunner().invoke(main, ["editions", "run", "weekly", "--now"])
    assert out.exit_code == 1 and "sending stopped" in out.stderr
    listed = CliRunner().invoke(main, ["editions", "list", "--json"])
    row = json.loads(listed.stdout.splitlines()[0])
    assert row["sent"] == 0 and row["pending"] == 1


def test_bad_settings_get_clear_errors(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITION_MAX_ITEMS", "lots")
    reset_settings()  # settings are read once (tests/settings_env.py)
    out = CliRunner().invoke(main, ["editions", "run", "weekly", "--now"])
    assert out.exit_code == 1 and "EDITION_MAX_ITEMS must be a whole number" in out.stderr
