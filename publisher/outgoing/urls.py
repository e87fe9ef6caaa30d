"""Credentials in URLs: never sent, never shown."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def has_credentials(url: str) -> bool:
    parts = urlsplit(url)
    return parts.username is not None or parts.password is not None


def mask_credentials(url: str) -> str:
    """The URL with any ``user:pass@`` replaced by ``***@`` (for display and logs)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))
