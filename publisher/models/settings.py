"""Settings that officers change in the console (stored in the database, not the environment).

One row per key with a JSON value; ``publisher.console.settings`` knows the keys, their
defaults and how to check them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, JSONType, UTCDateTime, utcnow


class AppSetting(Base):
    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
