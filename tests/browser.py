"""Real-browser helpers: the Flask app on a loopback port, Debian's Chromium driven by
Playwright, and axe-core checks for WCAG 2.2 AA.

The ``browser`` and ``live_app`` fixtures are registered in tests/conftest.py for every
test; call ``assert_accessible(page)`` on every page a test visits.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# axe-core tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run (two sync Playwright instances cannot
    run in one process, so this fixture lives in tests/conftest.py alone)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/setup-browser installs it")
        pytest.skip("Debian's chromium is not installed (run .ci/setup-browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


class LiveServer:
    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture()
def live_app() -> Iterator[Callable[[Any], LiveServer]]:
    """Serve a Flask app on 127.0.0.1 (a free port) for the length of one test."""
    servers: list[LiveServer] = []

    def start(app: Any) -> LiveServer:
        server = LiveServer(app)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]},
    )
    return list(results.response.get("violations", []))


def assert_accessible(page: Any) -> None:
    """Fail with a readable list when axe-core finds WCAG 2.2 AA violations."""
    violations = axe_violations(page)
    if violations:
        lines = [f"{page.url}: {len(violations)} accessibility violation(s)"]
        for v in violations:
            targets = ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:3])
            lines.append(f"- {v['id']} ({v.get('impact')}): {v.get('help')} at {targets}")
        pytest.fail("\n".join(lines))


def assert_landmarks(page: Any) -> None:
    """axe-core's landmark rules (best practice, beyond WCAG's tags, as IBM Equal Access
    checks them): all content inside landmarks, and landmarks (forms with names included)
    that people can tell apart."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "rule", "values": ["region", "landmark-unique"]},
            "resultTypes": ["violations"],
        },
    )
    violations = results.response.get("violations", [])
    assert not violations, [
        (v["id"], [n.get("target") for n in v.get("nodes", [])[:3]]) for v in violations
    ]


# ---- ux (issue 13.8): screenshots at both widths, kept as test artefacts --------------

SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"  # git ignores /var/
WIDTHS = (1280, 320)


def _assert_accessible_except(page: Any, exclude: list[str]) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        context={"exclude": [[sel] for sel in exclude]},
        options={"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]},
    )
    violations = results.response.get("violations", [])
    assert not violations, [
        (v["id"], [n.get("target") for n in v.get("nodes", [])[:3]]) for v in violations
    ]


# The innermost elements that reach past the right edge of the screen (for the message).
WIDER_THAN_SCREEN = """
[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(e => ![...e.children].some(c =>
      c.getBoundingClientRect().right > document.documentElement.clientWidth + 1))
  .slice(0, 5)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
       (e.className ? '.' + String(e.className).split(' ').join('.') : ''))
"""


def check_widths(
    page: Any, name: str, *, reflow: bool = True, exclude: list[str] | None = None
) -> list[Path]:
    """At 1280 and 320 px: axe-core finds nothing, nothing is wider than the screen
    (WCAG 1.4.10 reflow), and a full-page screenshot is saved under var/screenshots/
    (CI uploads the folder as an artefact; it is never committed). Returns the paths."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if exclude:
            # Only for what the browser itself draws into the page (not ours to fix).
            _assert_accessible_except(page, exclude)
        else:
            assert_accessible(page)
        # The screenshot first, so that a failure below leaves a picture of it.
        path = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
        if reflow:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            wide = page.evaluate(WIDER_THAN_SCREEN)
            assert scroll <= width + 1, f"{name} is {scroll} px wide at {width} px: {wide}"
    print(f"screenshots: {', '.join(str(p) for p in saved)}")
    page.set_viewport_size({"width": 1280, "height": 900})
    return saved
