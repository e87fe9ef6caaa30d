"""The requests transport: a session that connects only to the addresses it checked
(``httpx_transport`` does the same for httpx).

The check happens where the socket is made (urllib3's ``_new_conn``, httpcore's
``connect_tcp``): the host name is resolved once, every answer is checked, and the
socket goes to one of those addresses, so DNS cannot answer differently between the
check and the connection (rebinding). Redirects open their connections the same way, so
they are checked too. TLS still verifies the certificate against the host name.

Through a proxy (HTTPS_PROXY, set by whoever runs the service), the proxy's address is
trusted and the target is checked before each request instead; the proxy resolves the
name again, so rebinding is not guarded on that path.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3 import connection as u3connection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from publisher.outgoing.addresses import Allowed, Refused, resolve
from publisher.outgoing.deadline import deadline, register

MAX_REDIRECTS = 5


def allowlist() -> tuple[Allowed, ...]:
    from publisher.config import get_settings

    return get_settings().outgoing_allowlist


def default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def check_url(url: str) -> None:
    """Refuse what is never sent: other schemes, credentials in the URL, no host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused("only http and https addresses are fetched")
    if parts.username is not None or parts.password is not None:
        raise Refused("the address has a user name or password in it, which we never send")
    if not parts.hostname:
        raise Refused("the address has no host name")


def check_target(url: str) -> None:
    """check_url, and resolve the host and check its addresses (used where a proxy
    makes the connection, so the socket-level check cannot)."""
    check_url(url)
    parts = urlsplit(url)
    assert parts.hostname is not None
    resolve(parts.hostname, parts.port or default_port(parts.scheme), allowlist())


# --- requests (urllib3) ---------------------------------------------------------------


def _checked_socket(
    conn: u3connection.HTTPConnection, plain: Callable[[], socket.socket]
) -> socket.socket:
    """A socket to one of the checked addresses of ``conn``'s host."""
    if conn.proxy is not None:
        # A connection to the operator's proxy: the target was checked in send().
        return plain()
    try:
        addresses = resolve(conn._dns_host, conn.port, allowlist())
    except socket.gaierror as e:
        raise NameResolutionError(conn.host, conn, e) from e
    error: OSError | None = None
    for address in addresses:
        try:
            return create_connection(
                (address, conn.port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except TimeoutError as e:
            raise ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
            ) from e
        except OSError as e:
            error = e
    raise NewConnectionError(conn, f"Failed to establish a new connection: {error}")


def _watch(conn: u3connection.HTTPConnection) -> None:
    if conn.sock is not None:
        register(conn.sock)


# Each request registers its connection's socket under the current deadline: after
# connect (and TLS: the socket the request really reads), and again when a connection
# kept alive from an earlier request is used.


class _HTTPConnection(u3connection.HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _checked_socket(self, super()._new_conn)

    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _HTTPSConnection(u3connection.HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _checked_socket(self, super()._new_conn)

    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        # Every request, the first and each redirect, passes here.
        url = request.url or ""
        proxies: Mapping[str, str] | None = kwargs.get("proxies")
        if select_proxy(url, dict(proxies or {})):
            check_target(url)
        else:
            check_url(url)
        return super().send(request, *args, **kwargs)


class CheckedSession(requests.Session):
    """A requests session that only reaches allowed addresses, follows at most
    MAX_REDIRECTS redirects (each checked), and gives each request an overall deadline
    (``deadline_seconds``; with ``stream=True`` the body is read after the request
    returns, so wrap the reading in ``outgoing.deadline`` too)."""

    def __init__(self, deadline_seconds: float | None = None) -> None:
        super().__init__()
        self.deadline_seconds = deadline_seconds
        self.max_redirects = MAX_REDIRECTS
        adapter = CheckedAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        with deadline(self.deadline_seconds):
            return super().request(method, url, *args, **kwargs)
