"""An httpx transport that connects only to checked addresses (see ``transport`` for
why the check is made where the socket is made). The Bluesky SDK (atproto) uses httpx."""

from __future__ import annotations

import socket
from typing import Any

import httpcore
import httpx

from publisher.outgoing.addresses import resolve
from publisher.outgoing.deadline import register
from publisher.outgoing.transport import allowlist


class _Watched(httpcore.NetworkStream):
    """A stream whose socket (and the TLS socket after it) is under the deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        sock = inner.get_extra_info("socket")
        if sock is not None:
            register(sock)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Watched(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _CheckedBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port, allowlist())
        except socket.gaierror as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        error: Exception | None = None
        for address in addresses:
            try:
                return _Watched(
                    super().connect_tcp(address, port, timeout, local_address, socket_options)
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error


def httpx_transport() -> httpx.HTTPTransport:
    """An httpx transport that only reaches allowed addresses (pass it as
    ``transport=``; with a transport given, httpx ignores proxy settings)."""
    transport = httpx.HTTPTransport()
    # httpcore takes the network backend as a pool argument that httpx does not pass
    # through; the pool reads it each time it opens a connection.
    transport._pool._network_backend = _CheckedBackend()
    return transport
