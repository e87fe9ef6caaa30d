"""Connecting a Mastodon account with the server's own sign-in (issue 13.6): the OAuth 2
authorisation code flow against a loopback Mastodon that registers apps, shows a sign-in
page (here: approves at once and sends the browser back) and swaps codes for tokens.
The token it issues is then the one that publishes."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from typing import ClassVar
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
from sqlalchemy import select

from publisher.models import AuditEvent, Platform, PostState
from publisher.social import approve, credentials
from publisher.social.publishing import publish_due
from tests.console.conftest import make_account
from tests.factories import drafted_post
from tests.social.servers import FakePlatform, MastodonHandler, serve

pytestmark = pytest.mark.date_sensitive
ISSUED = "token-from-the-sign-in-" + "x" * 20


class OAuthMastodon(MastodonHandler):
    """MastodonHandler plus /api/v1/apps, /oauth/authorize and /oauth/token."""

    apps: ClassVar[dict[str, dict[str, str]]] = {}
    codes: ClassVar[dict[str, dict[str, str]]] = {}

    def do_GET(self) -> None:
        parts = urlparse(self.path)
        if parts.path != "/oauth/authorize":
            super().do_GET()
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        app = self.apps.get(query.get("client_id", ""))
        if app is None or query.get("redirect_uri") != app["redirect_uri"]:
            self._send(400, {"error": "invalid_client"})
            return
        code = secrets.token_urlsafe(12)
        self.codes[code] = {"client_id": query["client_id"], "scope": query.get("scope", "")}
        back = f"{app['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        self.send_response(302)
        self.send_header("Location", back)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        path = urlparse(self.path).path
        if path == "/api/v1/apps":
            form = self._form()
            client_id = secrets.token_hex(8)
            self.apps[client_id] = {
                "secret": secrets.token_hex(16),
                "redirect_uri": form["redirect_uris"],
                "scopes": form["scopes"],
            }
            self._send(
                200, {"client_id": client_id, "client_secret": self.apps[client_id]["secret"]}
            )
            return
        if path == "/oauth/token":
            form = self._form()
            grant = self.codes.pop(form.get("code", ""), None)
            app = self.apps.get(form.get("client_id", ""))
            if (
                grant is None
                or app is None
                or form.get("client_secret") != app["secret"]
                or form.get("redirect_uri") != app["redirect_uri"]
                or form.get("grant_type") != "authorization_code"
            ):
                self._send(400, {"error": "invalid_grant", "error_description": "bad code"})
                return
            self._send(
                200, {"access_token": ISSUED, "token_type": "Bearer", "scope": app["scopes"]}
            )
            return
        super().do_POST()


@pytest.fixture()
def server() -> Iterator[FakePlatform]:
    OAuthMastodon.apps, OAuthMastodon.codes = {}, {}
    with serve(OAuthMastodon, ISSUED) as fake:
        yield fake


def test_an_admin_connects_mastodon_by_signing_in(sign_in, session, officers, server):
    account = make_account(
        session,
        Platform.MASTODON,
        name="Council Mastodon",
        settings={"api_base_url": server.url, "read_timeout": 2},
        creds={"access_token": ""},
    )
    session.commit()
    admin = sign_in("admin")
    page = admin.get("/console/admin/accounts").get_data(as_text=True)
    assert "Connect Council Mastodon with Mastodon" in page
    started = admin.post(
        f"/console/admin/accounts/{account.id}/connect", page="/console/admin/accounts"
    )
    assert started.status_code == 302
    authorize = started.headers["Location"]
    assert authorize.startswith(f"{server.url}/oauth/authorize?")
    query = parse_qs(urlparse(authorize).query)
    assert query["scope"] == ["write:statuses write:media"]
    # The officer's browser at the server's sign-in page, sent back with a code.
    back = requests.get(authorize, allow_redirects=False, timeout=5)
    assert back.status_code == 302
    callback = urlparse(back.headers["Location"])
    assert callback.path == "/console/admin/accounts/mastodon/callback"
    done = admin.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 302
    assert "Connected Council Mastodon to Mastodon" in admin.get(
        "/console/admin/accounts"
    ).get_data(as_text=True)
    session.expire_all()
    assert credentials(account)["access_token"] == ISSUED
    # Audited, with the token masked.
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "social_account.update")
    ).all()
    assert events and all(ISSUED not in str(e.after) for e in events)
    # The callback works once: a replay is refused.
    again = admin.get(f"{callback.path}?{callback.query}")
    assert again.status_code == 302
    assert "was not started here" in admin.get("/console/admin/accounts").get_data(as_text=True)
    # And the token publishes.
    post = drafted_post(session, account)
    approve(session, officers["approver"], post)
    session.commit()
    assert post.publish_at is not None
    assert publish_due(now=post.publish_at + dt.timedelta(seconds=1)) == {"published": 1}
    session.expire_all()
    assert post.state is PostState.PUBLISHED and len(server.posts) == 1


def test_a_callback_nobody_started_is_refused(sign_in, session, server):
    admin = sign_in("admin")
    response = admin.get("/console/admin/accounts/mastodon/callback?code=abc&state=forged")
    assert response.status_code == 302
    assert "was not started here" in admin.get("/console/admin/accounts").get_data(as_text=True)
    assert sign_in("editor").post("/console/admin/accounts/1/connect").status_code == 403
