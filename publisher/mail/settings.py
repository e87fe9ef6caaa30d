"""Mail settings, read from the environment (kept here rather than in publisher.config so
that the mail package owns its own knobs)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from publisher.config import get_settings


def _env(name: str, default: str = "") -> str:
    raw = os.environ.get(name)
    return default if raw is None or raw.strip() == "" else raw.strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc


@dataclass(frozen=True)
class MailSettings:
    # "smtp", "notify" or "outbox"; empty means: Notify if NOTIFY_API_KEY is set, else
    # SMTP if SMTP_URL is set, else the local outbox.
    transport: str
    smtp_url: str
    notify_api_key: str
    notify_template_id: str
    notify_base_url: str
    # Bearer token Notify sends with delivery-status callbacks.
    notify_callback_token: str
    mail_from: str
    # Domain for Message-ID (make_msgid without domain= looks the host name up each call).
    message_id_domain: str
    # Messages per minute across all workers; 0 means no limit.
    rate_per_minute: int
    smtp_timeout: float
    # SMTP connections one sender keeps open; a newsletter batch writes this many
    # messages side by side and records them "sent" in one durable commit before their
    # final "." (one disk flush per group, not per message).
    smtp_connections: int = 4


def mail_settings() -> MailSettings:
    base = get_settings()
    host = urlsplit(base.public_base_url).hostname or "localhost"
    notify_key = _env("NOTIFY_API_KEY")
    smtp_url = _env("SMTP_URL")
    transport = _env("MAIL_TRANSPORT").lower()
    if not transport:
        transport = "notify" if notify_key else "smtp" if smtp_url else "outbox"
    if transport not in {"smtp", "notify", "outbox"}:
        raise ValueError(f"MAIL_TRANSPORT must be smtp, notify or outbox, not {transport!r}")
    default_rate = 3000 if transport == "notify" else 0
    rate_name = "NOTIFY_RATE_PER_MINUTE" if transport == "notify" else "SMTP_RATE_PER_MINUTE"
    return MailSettings(
        transport=transport,
        smtp_url=smtp_url,
        notify_api_key=notify_key,
        notify_template_id=_env("NOTIFY_TEMPLATE_ID"),
        notify_base_url=_env("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk"),
        notify_callback_token=_env("NOTIFY_CALLBACK_TOKEN"),
        mail_from=_env("MAIL_FROM", f"{base.council_name} Local Offer <localoffer@{host}>"),
        message_id_domain=_env("MESSAGE_ID_DOMAIN", host),
        rate_per_minute=_env_int(rate_name, default_rate),
        smtp_timeout=float(_env("SMTP_TIMEOUT", "30")),
        smtp_connections=max(1, min(32, _env_int("SMTP_CONNECTIONS", 4))),
    )
