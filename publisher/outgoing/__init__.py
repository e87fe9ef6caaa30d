"""Every HTTP request the service makes to an address someone typed: directory APIs
(crawls), social media servers, post images, the WebSub hub.

An editor's image address, an admin's source or server address, and anything those
redirect to are hostile until checked: they could point at Redis on loopback, a cloud
metadata service on a link-local address, or a machine on the council's network. So:

- each URL's host is resolved, and the request is refused unless every address is on
  the public internet or named by ``OUTGOING_ALLOWLIST``; the socket then goes to a
  checked address, so a second DNS answer cannot differ (rebinding);
- redirects (at most five) are checked the same way, connection by connection;
- ``user:pass@`` in a URL is never sent (and ``urls.mask_credentials`` hides it);
- each request can have an overall deadline, not only a read timeout;
- errors are sorted into ``Refused`` (never worth retrying) and requests' or httpx's own
  network errors (worth retrying), and ``plain_reason`` words them without internal
  detail: the same words for a closed port as for a slow one, so that the error
  messages an officer sees cannot be used to scan ports.

Adapters: ``session()`` for requests (also what Mastodon.py takes), ``httpx_transport()``
for httpx clients (``from publisher.outgoing.httpx_transport import httpx_transport``).
"""

from __future__ import annotations

import requests

from publisher.outgoing.addresses import Refused
from publisher.outgoing.deadline import DeadlineExceeded, deadline
from publisher.outgoing.transport import CheckedSession, check_url


def session(deadline_seconds: float | None = None) -> CheckedSession:
    """A requests session for outgoing calls; ``deadline_seconds`` bounds each request
    as a whole (connect, headers and body, redirects included)."""
    return CheckedSession(deadline_seconds)


def refusal_in(exc: BaseException) -> Refused | None:
    """The Refused behind an exception a library wrapped (Mastodon.py wraps everything
    its session raises into its own network error)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, Refused):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def plain_reason(exc: BaseException) -> str:
    """Why a request failed, in plain words and without addresses, ports or library
    detail."""
    refused = refusal_in(exc)
    if refused is not None:
        return f"we do not send requests there: {refused}"
    if isinstance(exc, DeadlineExceeded):
        return f"the answer {exc}"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection closed before the whole answer arrived"
    if isinstance(exc, requests.Timeout):
        return "the server did not answer in time"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the secure connection could not be set up (check the certificate)"
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return "the address redirected too many times"
    return "could not connect to the server"


__all__ = [
    "CheckedSession",
    "DeadlineExceeded",
    "Refused",
    "check_url",
    "deadline",
    "plain_reason",
    "refusal_in",
    "session",
]
