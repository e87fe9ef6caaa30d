"""Edition settings, from the environment."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _env(name: str, default: str) -> str:
    raw = os.environ.get(name)
    return default if raw is None or raw.strip() == "" else raw.strip()


def _int(name: str, default: int, minimum: int = 1, maximum: int = 10**9) -> int:
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


@dataclass(frozen=True)
class EditionSettings:
    weekly_day: int  # 0 = Monday
    send_time: dt.time  # local (Europe/London) time for weekly and monthly editions
    monthly_day: int  # day of the month, 1-28
    immediate_minutes: int  # immediate editions gather changes for this long
    batch_size: int  # subscribers per send task
    max_items: int  # items shown in one email; the rest are on the website
    lease_seconds: int  # a claim (or build) not renewed for this long is taken back
    max_attempts: int
    build_chunk: int = 5000  # subscribers per committed chunk of an edition's build


def edition_settings() -> EditionSettings:
    day = _env("WEEKLY_EDITION_DAY", "friday").lower()
    if day not in WEEKDAYS:
        raise ValueError(f"WEEKLY_EDITION_DAY must be a day of the week, not {day!r}")
    raw_time = _env("EDITION_SEND_TIME", "07:00")
    try:
        send_time = dt.time.fromisoformat(raw_time)
    except ValueError as exc:
        raise ValueError(f"EDITION_SEND_TIME must look like 07:00, not {raw_time!r}") from exc
    return EditionSettings(
        weekly_day=WEEKDAYS.index(day),
        send_time=send_time,
        monthly_day=_int("MONTHLY_EDITION_DAY", 1, 1, 28),
        immediate_minutes=_int("IMMEDIATE_EDITION_MINUTES", 5, 1, 24 * 60),
        batch_size=_int("EDITION_BATCH_SIZE", 500, 1, 100_000),
        max_items=_int("EDITION_MAX_ITEMS", 30, 1, 1000),
        # Claims are renewed while a batch progresses (a heartbeat every few messages),
        # so a short lease only means a dead worker's work is picked up soon.
        lease_seconds=_int("DELIVERY_LEASE_SECONDS", 45, 5, 86_400),
        max_attempts=_int("DELIVERY_MAX_ATTEMPTS", 8, 1, 100),
        build_chunk=_int("EDITION_BUILD_CHUNK", 5000, 1, 1_000_000),
    )
