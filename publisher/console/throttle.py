"""Sign-in throttling that slows password guessing without handing anyone a lock-out.

A lock per email (five wrong passwords from anywhere paused the account for everyone)
let anyone lock any officer out, and, repeated, the last admin for ever (issue 11,
point 4). Instead, failures count in three ways within a window (15 minutes; for an
email, only failures after its last good sign-in count):

- per (email, client): the first few wrong passwords cost nothing; after that, each one
  makes that client wait longer before the next try for that email (5 s, 10 s, 20 s, ...
  up to the window). Someone at another address, with the right password, is not held.
- per client (any email): a ceiling, so one client cannot sweep through many accounts.
- per email (every client): a ceiling far higher than one client's, against a guesser
  spread over many addresses. It never pauses an active admin when every other active
  admin is paused too: throttling alone can never leave the service without an admin.

``publisher users unlock EMAIL`` forgets an email's failures (after an attack, or when
an officer has mistyped too often); ``--client ADDRESS`` forgets one client's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models.logins import LoginAttempt
from publisher.models.users import Role, User


@dataclass(frozen=True)
class Policy:
    window: dt.timedelta = dt.timedelta(minutes=15)
    free_tries: int = 3  # per (email, client) before any delay
    first_delay: float = 5.0  # seconds, doubling with each further failure
    per_client: int = 20  # failures from one client, any email
    per_email: int = 100  # failures for one email, every client

    @classmethod
    def from_config(cls, cfg: Any) -> Policy:
        return cls(
            window=dt.timedelta(minutes=int(cfg.get("CONSOLE_LOGIN_WINDOW_MINUTES", 15))),
            free_tries=int(cfg.get("CONSOLE_LOGIN_FREE_TRIES", 3)),
            first_delay=float(cfg.get("CONSOLE_LOGIN_FIRST_DELAY_SECONDS", 5)),
            per_client=int(cfg.get("CONSOLE_LOGIN_MAX_FAILURES_PER_ADDRESS", 20)),
            per_email=int(cfg.get("CONSOLE_LOGIN_MAX_FAILURES_PER_EMAIL", 100)),
        )

    def delay(self, failures: int) -> dt.timedelta:
        """How long a client waits after its ``failures``-th wrong password for an email."""
        if failures < self.free_tries:
            return dt.timedelta(0)
        seconds = self.first_delay * 2 ** (failures - self.free_tries)
        return min(dt.timedelta(seconds=seconds), self.window)


@dataclass(frozen=True)
class Pause:
    seconds: int
    why: str  # "client-email", "client" or "email"


def _failures(db: Session, *where: Any) -> tuple[int, dt.datetime | None]:
    row = db.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.succeeded.is_(False), *where
        )
    ).one()
    return int(row[0] or 0), row[1]


def _email_since(db: Session, email: str, since: dt.datetime) -> dt.datetime:
    # Failures before this email's last good sign-in no longer count against it.
    last_good = db.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    return max(since, last_good) if last_good is not None else since


def _email_over_ceiling(db: Session, email: str, policy: Policy, now: dt.datetime) -> bool:
    since = _email_since(db, email, now - policy.window)
    count, _ = _failures(db, LoginAttempt.email == email, LoginAttempt.at > since)
    return count >= policy.per_email


def _is_last_unpaused_admin(db: Session, email: str, policy: Policy, now: dt.datetime) -> bool:
    user = db.scalars(select(User).where(func.lower(User.email) == email)).first()
    if user is None or not user.active or user.role is not Role.ADMIN:
        return False
    others = db.scalars(
        select(User.email).where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    ).all()
    return all(_email_over_ceiling(db, other, policy, now) for other in others)


def pause(db: Session, email: str, client: str, policy: Policy) -> Pause | None:
    """Why (and how long) this client must wait before trying ``email`` again, or None."""
    now = utcnow()
    window_start = now - policy.window
    email_since = _email_since(db, email, window_start)
    count, last = _failures(
        db,
        LoginAttempt.email == email,
        LoginAttempt.address == client,
        LoginAttempt.at > email_since,
    )
    if count and last is not None:
        wait = last + policy.delay(count) - now
        if wait > dt.timedelta(0):
            return Pause(max(1, int(wait.total_seconds() + 0.999)), "client-email")
    by_client, last_client = _failures(
        db, LoginAttempt.address == client, LoginAttempt.at >= window_start
    )
    if by_client >= policy.per_client and last_client is not None:
        wait = last_client + policy.window - now
        return Pause(max(1, int(wait.total_seconds() + 0.999)), "client")
    if _email_over_ceiling(db, email, policy, now) and not _is_last_unpaused_admin(
        db, email, policy, now
    ):
        return Pause(int(policy.window.total_seconds()), "email")
    return None


def note_attempt(db: Session, email: str, client: str, succeeded: bool) -> None:
    db.add(LoginAttempt(email=email[:320], address=client, succeeded=succeeded, at=utcnow()))
    if succeeded:
        # Attempts matter only for the throttling window; a day is plenty to keep.
        db.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - dt.timedelta(days=1)))


def unlock(db: Session, email: str | None = None, client: str | None = None) -> int:
    """Forget failed sign-ins for an email and/or a client; how many were forgotten."""
    query = delete(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
    if email is not None:
        query = query.where(LoginAttempt.email == email.strip().lower())
    if client is not None:
        query = query.where(LoginAttempt.address == client.strip())
    result = db.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


def wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
