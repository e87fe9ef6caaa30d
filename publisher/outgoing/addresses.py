"""Which addresses outgoing requests may reach.

Only public internet addresses, unless the ``OUTGOING_ALLOWLIST`` setting names an
address or network (with an optional port). Everything a URL's host name resolves to is
checked, and one private answer refuses the whole host: otherwise a name that resolves
to a public and a private address would let the private one through.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Refused(Exception):
    """The service will not send a request there (a private address, a bad URL). Not a
    network error: trying again gives the same answer."""


@dataclass(frozen=True)
class Allowed:
    """One allowlist entry: a network, and a port (None: any)."""

    network: IPNetwork
    port: int | None = None

    def admits(self, address: IPAddress, port: int) -> bool:
        return address in self.network and (self.port is None or self.port == port)


def parse_allowlist(raw: str) -> tuple[Allowed, ...]:
    """``127.0.0.1:8001, 10.0.0.0/8, [::1]:8001, ::1`` -> entries; ValueError in words."""
    entries = []
    for item in (part.strip() for part in raw.split(",")):
        if item:
            entries.append(_parse_entry(item))
    return tuple(entries)


def _parse_entry(item: str) -> Allowed:
    text, port = item, None
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError(f"OUTGOING_ALLOWLIST: {item!r} has '[' without ']'")
        rest = text[close + 1 :]
        text = text[1:close]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"OUTGOING_ALLOWLIST: {item!r} should be [address]:port")
            port = _port(rest[1:], item)
    elif text.count(":") == 1:  # IPv4 (or an IPv4 network) with a port
        text, port_text = text.split(":")
        port = _port(port_text, item)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise ValueError(
            f"OUTGOING_ALLOWLIST: {item!r} is not an address or network such as "
            "127.0.0.1:8001, 10.0.0.0/8 or [::1]:8001"
        ) from exc
    return Allowed(network, port)


def _port(text: str, item: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"OUTGOING_ALLOWLIST: {item!r} has a port that is not 1 to 65535")
    return int(text)


def _unmapped(address: IPAddress) -> IPAddress:
    # ::ffff:127.0.0.1 reaches 127.0.0.1: judge the IPv4 address inside.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(address: IPAddress) -> bool:
    """On the public internet: not loopback, private (10/8, 172.16/12, 192.168/16),
    link-local (169.254/16, fe80::/10, where cloud metadata lives), unique-local
    (fc00::/7), shared (100.64/10), unspecified (0.0.0.0 reaches this machine),
    multicast or reserved."""
    address = _unmapped(address)
    return address.is_global and not address.is_multicast


def check_address(address: IPAddress, port: int, allow: tuple[Allowed, ...]) -> None:
    if is_public(address):
        return
    plain = _unmapped(address)
    if any(entry.admits(plain, port) or entry.admits(address, port) for entry in allow):
        return
    raise Refused("the address is not on the public internet")


def resolve(host: str, port: int, allow: tuple[Allowed, ...]) -> list[str]:
    """Every address ``host`` resolves to, each checked; Refused if any is not allowed.
    The caller connects to these, never to the name again
    (a second lookup could answer differently: DNS rebinding)."""
    host = host.strip("[]").rstrip(".")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal, port, allow)
        return [str(literal)]
    # socket.gaierror (a name not found, or DNS down) goes to the caller as it is: a
    # network error, worth trying again later.
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%")[0]
        check_address(ipaddress.ip_address(text), port, allow)
        if text not in addresses:
            addresses.append(text)
    return addresses
