"""Connecting a Mastodon account with the server's own sign-in (issue 13.6): the OAuth 2
authorisation code flow, instead of pasting a token.

1. ``start``: register this service as an app on the account's server
   (``POST /api/v1/apps``, once per account and callback address), keep the app's client
   secret encrypted with the account's credentials, and give the address of the server's
   sign-in page (``/oauth/authorize``) with a random ``state``.
2. The officer signs in on their server and allows the app; the server sends the browser
   back to our callback with a ``code`` and the same ``state``.
3. ``finish``: swap the code for an access token (``POST /oauth/token``) and store it
   encrypted, as if it had been pasted; the change is audited.

Every call goes through ``publisher.outgoing`` (public addresses only, an overall
deadline). The token never reaches the browser.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from sqlalchemy.orm import Session

from publisher import outgoing
from publisher.models.social import Platform, SocialAccount
from publisher.models.users import User
from publisher.social.accounts import credentials, update_account
from publisher.social.errors import SocialError

SCOPES = "write:statuses write:media"
APP_NAME = "Local Offer Publisher"
DEADLINE = 20.0


@dataclass(frozen=True)
class Started:
    authorize_url: str
    state: str


def _server(account: SocialAccount) -> str:
    if account.platform is not Platform.MASTODON:
        raise SocialError("Only Mastodon accounts connect this way.")
    base = str((account.settings or {}).get("api_base_url") or "").rstrip("/")
    if not base:
        raise SocialError("Give the account its server address first, then connect.")
    return base


def _post(url: str, data: dict[str, str], what: str) -> dict[str, Any]:
    try:
        with outgoing.session(DEADLINE) as http:
            response = http.post(url, data=data, timeout=(5, 15))
    except outgoing.Refused as exc:
        raise SocialError(
            f"The server address cannot be used: {outgoing.plain_reason(exc)}."
        ) from exc
    except requests.RequestException as exc:
        raise SocialError(
            f"Could not reach the Mastodon server to {what}: {outgoing.plain_reason(exc)}."
        ) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not response.ok or not isinstance(body, dict):
        detail = (
            body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        )
        raise SocialError(
            f"The Mastodon server would not {what} (it answered {response.status_code}"
            + (f": {str(detail)[:200]}" if detail else "")
            + ")."
        )
    return body


def start(session: Session, actor: User | None, account: SocialAccount, callback: str) -> Started:
    """Register the app (if this account has none for ``callback`` yet) and return where
    to send the officer's browser."""
    base = _server(account)
    settings = dict(account.settings or {})
    creds = credentials(account)
    if settings.get("oauth_redirect_uri") != callback or not creds.get("oauth_client_secret"):
        app = _post(
            f"{base}/api/v1/apps",
            {
                "client_name": APP_NAME,
                "redirect_uris": callback,
                "scopes": SCOPES,
            },
            "register this service",
        )
        client_id, client_secret = app.get("client_id"), app.get("client_secret")
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise SocialError("The Mastodon server did not give this service an app id.")
        settings.update(oauth_client_id=client_id, oauth_redirect_uri=callback)
        update_account(
            session, actor, account, settings=settings, creds={"oauth_client_secret": client_secret}
        )
    state = secrets.token_urlsafe(24)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings["oauth_client_id"],
            "redirect_uri": callback,
            "scope": SCOPES,
            "state": state,
        }
    )
    return Started(authorize_url=f"{base}/oauth/authorize?{query}", state=state)


def finish(session: Session, actor: User | None, account: SocialAccount, code: str) -> None:
    """Swap the code the server sent back for an access token, and keep it."""
    base = _server(account)
    settings = account.settings or {}
    creds = credentials(account)
    if not code or len(code) > 512:
        raise SocialError("The Mastodon server sent no sign-in code back. Try connecting again.")
    token = _post(
        f"{base}/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": str(settings.get("oauth_client_id", "")),
            "client_secret": creds.get("oauth_client_secret", ""),
            "redirect_uri": str(settings.get("oauth_redirect_uri", "")),
            "scope": SCOPES,
        },
        "give a token",
    )
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise SocialError("The Mastodon server gave no access token. Try connecting again.")
    update_account(session, actor, account, creds={"access_token": access})
