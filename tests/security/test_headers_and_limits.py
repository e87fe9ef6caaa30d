"""Headers, small defects and request sizes (issue 11, points 2 and 11), over HTTP.

- every public page carries a strict Content-Security-Policy (scripts only with this
  response's nonce), a Permissions-Policy, and Strict-Transport-Security when
  PUBLIC_BASE_URL is https; the pages' own scripts carry the nonce;
- a CR/LF in the sign-in ``next`` is a 400 and an id beyond any row is a 404, not 500s;
- there is a favicon;
- a body larger than the route's limit is refused with 413 before it is read: small for
  public forms and APIs, larger for the officer console.
"""

from __future__ import annotations

import re
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from publisher.web.hardening import CONSOLE_MAX_BODY, PUBLIC_MAX_BODY
from tests.security.conftest import Site

PUBLIC_PAGES = [
    "/",
    "/feeds",
    "/accessibility",
    "/privacy",
    "/newsletters",
    "/subscriptions/",
    "/subscriptions/link",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_a_strict_csp_and_permissions_policy(site: Site, path: str) -> None:
    page = site.visitor().get(path)
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    nonce = re.search(r"'nonce-([^']+)'", directives["script-src"])
    assert nonce
    # Every script on the page carries this response's nonce, so it still runs.
    for script in re.findall(r"<script[^>]*>", page.text):
        assert f'nonce="{nonce.group(1)}"' in script
    assert "camera=()" in page.headers["Permissions-Policy"]
    assert "geolocation=()" in page.headers["Permissions-Policy"]
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(page.headers["Strict-Transport-Security"].split("=")[1]) >= 180 * 86400


def test_nonces_differ_between_responses(site: Site) -> None:
    visitor = site.visitor()
    first = visitor.get("/").headers["Content-Security-Policy"]
    second = visitor.get("/").headers["Content-Security-Policy"]
    assert first != second


def test_the_form_error_script_carries_the_nonce(site: Site) -> None:
    answer = site.visitor().form("/subscriptions/", {"email": "not an address"})
    assert answer.status_code == 400
    assert re.search(r'<script nonce="[^"]+">document.getElementById\("error-summary', answer.text)


def test_no_hsts_over_plain_http(start_site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.config import reset_settings

    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    reset_settings()
    site = start_site(PUBLIC_BASE_URL="http://127.0.0.1:8000")
    page = site.visitor().get("/")
    assert "Strict-Transport-Security" not in page.headers
    assert "Content-Security-Policy" in page.headers


def test_console_keeps_its_own_policy(site: Site) -> None:
    page = site.visitor().get("/console/login")
    assert page.status_code == 200
    assert "script-src 'self' 'nonce-" in page.headers["Content-Security-Policy"]
    assert "Permissions-Policy" in page.headers


@pytest.mark.parametrize(
    "target",
    ["/console%0d%0aSet-Cookie:%20x=1", "/console%0aLocation:%20https://evil.example", "%0d%0a"],
)
def test_crlf_in_sign_in_next_is_a_400(site: Site, target: str) -> None:
    visitor = site.visitor()
    assert visitor.get(f"/console/login?next={target}").status_code == 400
    token = visitor.csrf("/console/login")
    answer = visitor.post(
        f"/console/login?next={target}",
        data={"email": "a@b.example", "password": "x", "csrf_token": token},
    )
    assert answer.status_code == 400
    assert "Set-Cookie: x" not in str(answer.headers)


@pytest.mark.parametrize(
    "path",
    [
        "/newsletters/99999999999999999999999",
        "/newsletters/2147483648",
        "/console/posts/99999999999999999999999",
    ],
)
def test_ids_beyond_any_row_are_not_found(site: Site, path: str) -> None:
    answer = site.visitor().get(path)
    assert answer.status_code in (404, 302)  # the console asks for sign-in first
    if path.startswith("/newsletters"):
        assert answer.status_code == 404


def test_there_is_a_favicon(site: Site) -> None:
    icon = site.visitor().get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["Content-Type"] == "image/vnd.microsoft.icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an .ico with one image
    assert b"PNG" in icon.content[:40]


# --- request size ------------------------------------------------------------------


def _raw_post(site: Site, path: str, length: int, content_type: str) -> tuple[int, float, int]:
    """Declare a body of ``length`` bytes, send only the head, and time the answer. A
    server that reads the body first would wait (and then time out) instead."""
    parts = urlsplit(site.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=20)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    started = time.monotonic()
    sent = 0
    try:
        sock.sendall(head.encode())
        sock.sendall(b"{" + b" " * 1000)
        sent = 1001
        reply = sock.recv(4096).decode("latin-1")
    finally:
        sock.close()
    took = time.monotonic() - started
    return int(reply.split(" ", 2)[1]), took, sent


def test_a_50_mb_json_body_to_the_public_api_is_refused_at_once(site: Site) -> None:
    status, took, sent = _raw_post(
        site, "/subscriptions/api/subscribe", 50 * 1024 * 1024, "application/json"
    )
    assert status == 413
    assert took < 5  # answered from the head: the 50 MB were never awaited
    assert sent < 50 * 1024 * 1024


@pytest.mark.parametrize("path", ["/subscriptions/", "/subscriptions/link", "/console/login"])
def test_forms_refuse_oversized_bodies(site: Site, path: str) -> None:
    limit = CONSOLE_MAX_BODY if path.startswith("/console") else PUBLIC_MAX_BODY
    status, _, _ = _raw_post(site, path, limit + 1, "application/x-www-form-urlencoded")
    assert status == 413


def test_a_chunked_body_over_the_limit_is_refused(site: Site) -> None:
    visitor = site.visitor()

    def chunks() -> Any:
        for _ in range(200):
            yield b'{"email": "' + b"a" * 1024 + b'"}'

    answer = visitor.post(
        "/subscriptions/api/subscribe",
        data=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413


def test_bodies_under_the_limits_still_work(site: Site) -> None:
    visitor = site.visitor()
    answer = visitor.post(
        "/subscriptions/api/subscribe",
        json={"email": "size-ok@example.org", "frequency": "weekly", "format": "html"},
    )
    assert answer.status_code == 202
    assert PUBLIC_MAX_BODY < CONSOLE_MAX_BODY
