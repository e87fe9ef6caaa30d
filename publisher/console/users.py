"""Console accounts: create, change role, deactivate, check a password.

Passwords are hashed with scrypt (werkzeug.security); every change lands in the audit log.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from publisher import audit
from publisher.db import utcnow
from publisher.models.users import Role, User

MIN_PASSWORD = 12
HASH_METHOD = "scrypt"
# Checked against when the email is unknown, so that a wrong email takes as long as a
# wrong password and does not tell a guesser which accounts exist.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing", method=HASH_METHOD)


class UserError(ValueError):
    """Input that cannot be used; the message is shown to the officer as it is."""


def normalise_email(raw: str) -> str:
    try:
        # No DNS look-up: the console must work offline and in tests.
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise UserError(f"Enter a real email address, like name@council.gov.uk. ({exc})") from exc


def parse_role(raw: str) -> Role:
    try:
        return Role(raw.strip().lower())
    except ValueError as exc:
        names = ", ".join(r.value for r in Role)
        raise UserError(f"Role must be one of: {names}.") from exc


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"The password must be at least {MIN_PASSWORD} characters long.")
    if len(password) > 1024:
        raise UserError("The password is too long (at most 1,024 characters).")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def user_state(user: User) -> dict[str, object]:
    """What the audit log keeps about a user (never the password hash)."""
    return {"email": user.email, "role": user.role.value, "active": user.active}


def create_user(
    session: Session, email: str, role: str | Role, password: str, actor: User | None = None
) -> User:
    address = normalise_email(email)
    the_role = role if isinstance(role, Role) else parse_role(role)
    check_password_rules(password)
    if find_by_email(session, address) is not None:
        raise UserError(f"There is already an account for {address}.")
    user = User(
        email=address,
        password_hash=hash_password(password),
        role=the_role,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, None, user_state(user))
    return user


def _admins_left(session: Session, without: User) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.active.is_(True), User.id != without.id)
        )
        or 0
    )


def change_role(session: Session, user: User, role: str | Role, actor: User | None) -> None:
    the_role = role if isinstance(role, Role) else parse_role(role)
    if the_role is user.role:
        return
    if user.role is Role.ADMIN and user.active and _admins_left(session, user) == 0:
        raise UserError("This is the last admin. Make someone else an admin first.")
    before = user_state(user)
    user.role = the_role
    audit.record(session, actor, "user.change_role", "user", user.id, before, user_state(user))


def set_active(session: Session, user: User, active: bool, actor: User | None) -> None:
    if user.active == active:
        return
    if not active and user.role is Role.ADMIN and _admins_left(session, user) == 0:
        raise UserError("This is the last admin. Make someone else an admin first.")
    before = user_state(user)
    user.active = active
    if not active:
        end_sessions(user)
    action = "user.reactivate" if active else "user.deactivate"
    audit.record(session, actor, action, "user", user.id, before, user_state(user))


def set_password(session: Session, user: User, password: str, actor: User | None) -> None:
    check_password_rules(password)
    user.password_hash = hash_password(password)
    end_sessions(user)
    # The log says the password changed, never what to.
    audit.record(session, actor, "user.set_password", "user", user.id, None, None)


def end_sessions(user: User) -> None:
    """End every session of ``user``, wherever its cookie is (checked on each request)."""
    user.session_version = (user.session_version or 1) + 1


def verify(user: User | None, password: str) -> bool:
    """True when ``user`` exists, is active, and ``password`` is theirs."""
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    ok = check_password_hash(user.password_hash, password)
    return ok and user.active
