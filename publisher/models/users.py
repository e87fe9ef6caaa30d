"""Console users: comms officers and Local Offer staff who sign in to the officer console."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, UTCDateTime, utcnow
from publisher.models.enums import value_enum


class Role(enum.Enum):
    """Least privilege: each role may do only its own work (admins may do everything)."""

    EDITOR = "editor"  # edits and submits drafts
    APPROVER = "approver"  # approves, rejects, schedules (and edits)
    ADMIN = "admin"  # users, social accounts, sources, settings (and all of the above)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so that one person cannot hold two accounts by changing case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # A werkzeug.security hash ("scrypt:..."): never the password itself.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(value_enum(Role, 16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Every session cookie carries the version it was made under; signing out, a new
    # password or deactivation moves it on, so every copy of every cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"
