"""Server-side request forgery (issue 11, point 5), probed from outside.

An admin's source URL, an editor's post image URL, an admin's social server URL, the
WebSub hub and anything they redirect to are fetched by workers. None of them may reach
loopback, private, link-local or unique-local addresses unless OUTGOING_ALLOWLIST names
them (the rest of the suite allows loopback: here it is taken away). A "secret" listener
on loopback stands for Redis or an internal admin page: it must never see a connection.
Errors must not tell an open port from a closed one, and ``user:pass@`` in a source URL
is never stored, sent or shown.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select

from publisher.config import reset_settings
from publisher.db import session_scope
from publisher.demo.directory import DirectoryServer, DirectoryState
from publisher.demo.generate import make_services
from publisher.feeds import websub
from publisher.ingest import add_source, crawl_source
from publisher.models import Source, SourceKind
from publisher.outgoing.addresses import Refused, check_address, parse_allowlist
from publisher.social.adapters.base import Outgoing, Permanent, Retryable
from publisher.social.adapters.bluesky import BlueskyAdapter
from publisher.social.adapters.facebook import FacebookAdapter
from publisher.social.adapters.images import fetch_image
from publisher.social.adapters.mastodon import MastodonAdapter
from publisher.social.platforms.x import XAdapter
from tests.faults.crawl_servers import run_publisher

REFUSED = "we do not send requests there: the address is not on the public internet"


class Listener:
    """A loopback port that counts every connection (Redis, an internal page)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.create_server((host, port))
        self.sock.settimeout(0.2)
        self.hits = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


class _Redirect(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.server.hits += 1
        self.send_response(302)
        self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "0")
        self.end_headers()


def redirector(location: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    server.location = location  # type: ignore[attr-defined]
    server.hits = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _allow(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OUTGOING_ALLOWLIST", value)
    reset_settings()


@pytest.fixture()
def guarded(db: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No allowlist: only public addresses, as in production."""
    for key, value in {
        "CRAWL_MIN_REQUEST_INTERVAL": "0",
        "CRAWL_BACKOFF": "0.01",
        "CRAWL_RETRIES": "1",
        "CRAWL_REQUEST_DEADLINE": "5",
        "CRAWL_LOCK_SECONDS": "20",
    }.items():
        monkeypatch.setenv(key, value)
    _allow(monkeypatch, "")
    yield
    reset_settings()


@pytest.fixture()
def secret() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


def _crawl_error(url: str, name: str) -> str:
    with session_scope() as session:
        add_source(session, name, url)
    summary = crawl_source(name, notify=False)
    assert summary.status == "incomplete"
    return summary.error or ""


def test_a_source_on_loopback_is_refused_in_every_spelling(guarded, secret):
    port = secret.port
    spellings = [
        f"http://127.0.0.1:{port}",
        f"http://localhost:{port}",
        f"http://127.1:{port}",
        f"http://2130706433:{port}",  # 127.0.0.1 as one number
        f"http://[::ffff:127.0.0.1]:{port}",
        f"http://0.0.0.0:{port}",  # reaches this machine
        f"https://127.0.0.1:{port}",
    ]
    for n, url in enumerate(spellings):
        assert REFUSED in _crawl_error(url, f"s{n}"), url
    assert secret.hits == 0


def test_errors_do_not_tell_an_open_port_from_a_closed_one(guarded, secret):
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    open_error = _crawl_error(f"http://127.0.0.1:{secret.port}", "open")
    closed_error = _crawl_error(f"http://127.0.0.1:{closed_port}", "closed")
    assert re.sub(r":\d+", ":PORT", open_error) == re.sub(r":\d+", ":PORT", closed_error)
    assert secret.hits == 0


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "::",
    ],
)
def test_private_link_local_and_unique_local_ranges_are_refused(address):
    # Judged without sending anything: these are never targets, even in a test.
    with pytest.raises(Refused):
        check_address(ipaddress.ip_address(address), 80, ())


def test_public_addresses_pass_and_the_allowlist_admits_only_what_it_names():
    for public in ("93.184.216.34", "2606:4700::1111", "8.8.8.8"):
        check_address(ipaddress.ip_address(public), 443, ())
    allow = parse_allowlist("127.0.0.1:8001, 10.1.0.0/16, [::1]:9000")
    check_address(ipaddress.ip_address("127.0.0.1"), 8001, allow)
    check_address(ipaddress.ip_address("10.1.200.3"), 443, allow)
    check_address(ipaddress.ip_address("::1"), 9000, allow)
    for address, port in (("127.0.0.1", 6379), ("10.2.0.1", 443), ("::1", 9001)):
        with pytest.raises(Refused):
            check_address(ipaddress.ip_address(address), port, allow)
    with pytest.raises(ValueError, match="OUTGOING_ALLOWLIST"):
        parse_allowlist("localhost:80")


def test_a_redirect_to_loopback_is_refused(guarded, secret, monkeypatch):
    hop = redirector(f"http://127.0.0.1:{secret.port}/internal")
    try:
        _allow(monkeypatch, f"127.0.0.1:{hop.server_address[1]}")  # the first hop only
        error = _crawl_error(f"http://127.0.0.1:{hop.server_address[1]}", "north")
    finally:
        hop.shutdown()
        hop.server_close()
    assert hop.hits >= 1  # type: ignore[attr-defined]
    assert REFUSED in error and secret.hits == 0


def test_dns_rebinding_cannot_move_a_checked_connection(guarded, monkeypatch):
    """A name that answers an allowed address for the check and a forbidden one after:
    each connection goes to the address that was checked, never to a second answer."""
    state = DirectoryState(services=make_services(3, seed=3, today=dt.date.today()))
    legit = DirectoryServer(state, host="127.0.0.1").start()
    port = legit.server_address[1]
    secret = Listener("127.0.0.2", port)
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "127.0.0.2"] * 100)

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            return real(next(answers), *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    _allow(monkeypatch, f"127.0.0.1:{port}")
    try:
        with session_scope() as session:
            add_source(session, "north", f"http://rebind.example:{port}")
        summary = crawl_source("north", notify=False)
    finally:
        legit.stop()
        secret.close()
    assert sum(state.hits.values()) >= 1  # the checked address answered
    assert secret.hits == 0
    # The next connection resolved again, got the forbidden answer, and was refused.
    assert summary.status == "incomplete" and REFUSED in (summary.error or "")


def test_credentials_in_a_source_url_are_refused_masked_and_never_sent(
    guarded, secret, database_url, tmp_path
):
    url = f"http://user:secret-pass@127.0.0.1:{secret.port}/api"
    added = run_publisher(
        "source", "add", "north", url, database_url=database_url, data_dir=tmp_path
    )
    assert added.returncode == 1 and "user name or password" in added.stderr
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0
        # One stored by an older version: masked wherever it is shown, never sent.
        session.add(Source(name="old", location=url, kind=SourceKind.ORUK_API))
    listing = run_publisher("source", "list", database_url=database_url, data_dir=tmp_path)
    assert "secret-pass" not in listing.stdout and "***@127.0.0.1" in listing.stdout
    summary = crawl_source("old", notify=False)
    assert "user name or password" in (summary.error or "")
    assert "secret-pass" not in (summary.error or "")
    assert secret.hits == 0


def test_the_console_shows_no_credentials(guarded, db):
    from publisher.console.users import create_user
    from publisher.web import create_app

    with session_scope() as session:
        create_user(session, "admin@council.example", "admin", "correct horse battery staple")
        session.add(
            Source(
                name="old",
                location="https://u:pw-123@dir.example.org/api",
                kind=SourceKind.ORUK_API,
            )
        )
    client = create_app({"TESTING": True}).test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text)
    assert token
    client.post(
        "/console/login",
        data={
            "email": "admin@council.example",
            "password": "correct horse battery staple",
            "csrf_token": token.group(1),
        },
    )
    page = client.get("/console/admin/sources").text
    assert "***@dir.example.org/api" in page and "pw-123" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    refused = client.post(
        "/console/admin/sources",
        data={"name": "new", "url": "https://a:b@dir.example.org", "csrf_token": token.group(1)},
    )
    assert refused.status_code == 400 and "user name or password" in refused.text


def _outgoing(**settings: Any) -> Outgoing:
    return Outgoing(
        post_id=1,
        platform="mastodon",
        text="A new service: Sunny Days Play Group https://localoffer.example.gov.uk/s/1",
        link="https://localoffer.example.gov.uk/s/1",
        link_title="Sunny Days",
        link_description=None,
        hashtags=[],
        image_url=settings.pop("image_url", None),
        image_alt="A playground",
        idempotency_key="k-1",
        rkey="3jzfcijpj2z2a",
        intent_at=None,
        drafted_at=None,
        maybe_sent=False,
        attempt_at=dt.datetime.now(dt.UTC),
        settings={"connect_timeout": 1, "read_timeout": 2, **settings},
        credentials={"access_token": "t", "app_password": "p", "page_access_token": "t"},
    )


def test_social_server_addresses_on_loopback_are_refused(guarded, secret):
    base = f"http://127.0.0.1:{secret.port}"
    cases: list[tuple[Any, Outgoing, str]] = [
        (MastodonAdapter(), _outgoing(api_base_url=base), "Mastodon server"),
        (BlueskyAdapter(), _outgoing(service_url=base, handle="council.test"), "Bluesky server"),
        (FacebookAdapter(), _outgoing(graph_url=base, page_id="1"), "Facebook Graph API"),
        (XAdapter(), _outgoing(api_url=base), "X API"),
    ]
    for adapter, outgoing, what in cases:
        with pytest.raises(Permanent) as refused:
            adapter.publish(outgoing)
        assert str(refused.value) == f"The {what} address cannot be used: {REFUSED}.", what
    assert secret.hits == 0


def test_a_post_image_on_loopback_is_refused(guarded, secret):
    with pytest.raises(Permanent) as refused:
        fetch_image(f"http://127.0.0.1:{secret.port}/logo.png", {}, 1_000_000)
    assert str(refused.value) == f"The image address cannot be used: {REFUSED}."
    assert secret.hits == 0


class _Image(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        if self.path == "/huge.png":
            self.send_header("Content-Length", str(50_000_000))
            self.end_headers()
            self.server.sent = 0
            return
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(100):  # /slow.png: a byte every half second
            self.wfile.write(b"x")
            self.wfile.flush()
            if self.server.stop.wait(0.5):
                return


def test_images_are_capped_in_size_and_time(guarded, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Image)
    server.stop = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    _allow(monkeypatch, f"127.0.0.1:{server.server_address[1]}")
    try:
        with pytest.raises(Permanent, match="too large: the limit here is 1,000 KB"):
            fetch_image(base + "/huge.png", {}, 1_000_000)
        with pytest.raises(Retryable, match="took longer than 2 seconds in all"):
            fetch_image(base + "/slow.png", {"image_deadline": 2}, 1_000_000)
    finally:
        server.stop.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


def test_a_websub_hub_on_loopback_is_refused(guarded, secret):
    with pytest.raises(websub.HubError) as refused:
        websub.publish(f"http://127.0.0.1:{secret.port}/hub", "https://example.org/feed.atom")
    assert not refused.value.retryable and REFUSED in str(refused.value)
    assert secret.hits == 0
