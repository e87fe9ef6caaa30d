"""``publisher users``: console accounts."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from sqlalchemy.orm import Session

from publisher.cli.common import fail, main, ready_database
from publisher.console.users import (
    UserError,
    create_user,
    find_by_email,
    set_active,
    set_password,
)
from publisher.db import session_scope
from publisher.models.users import Role, User


@main.group()
def users() -> None:
    """Officer console accounts."""


@users.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="editor: edits drafts; approver: approves and schedules; admin: everything.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_add(email: str, role: str, password_stdin: bool) -> None:
    """Make a console account for EMAIL. Asks for the password unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    ready_database()
    try:
        with session_scope() as session:
            user = create_user(session, email, role, password)
            address, user_role = user.email, user.role.value
    except UserError as exc:
        fail(str(exc))
        return
    click.echo(f"Added {address} as {user_role}.")


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_set_password(email: str, password_stdin: bool) -> None:
    """Give EMAIL a new password (for example, when the only admin has forgotten theirs)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    _change_user(email, lambda session, user: set_password(session, user, password, None))
    click.echo(f"Set a new password for {email}. Their other sessions have ended.")


def _change_user(email: str, change: Callable[[Session, User], object]) -> None:
    """Find EMAIL's account and apply ``change`` in one transaction, or fail clearly."""
    ready_database()
    try:
        with session_scope() as session:
            user = find_by_email(session, email.strip())
            if user is None:
                fail(f"There is no account for {email}.")
                return
            change(session, user)
    except UserError as exc:
        fail(str(exc))


@users.command("deactivate")
@click.argument("email")
def users_deactivate(email: str) -> None:
    """Stop EMAIL signing in (the account and its history are kept)."""
    _change_user(email, lambda session, user: set_active(session, user, False, None))
    click.echo(f"{email} can no longer sign in.")


@users.command("unlock")
@click.argument("email", required=False)
@click.option("--client", help="Forget the failed sign-ins from this client address instead.")
def users_unlock(email: str | None, client: str | None) -> None:
    """Let EMAIL (or a client address) try to sign in again at once: forget its failed
    sign-ins. For when throttling holds an officer up, during or after an attack."""
    from publisher.console.throttle import unlock

    if not email and not client:
        fail("Give an EMAIL, or --client ADDRESS.")
        return
    ready_database()
    with session_scope() as session:
        count = unlock(session, email=email, client=client)
    who = " and ".join(filter(None, [email, client and f"client {client}"]))
    click.echo(f"Forgot {count} failed sign-in{'s' if count != 1 else ''} for {who}.")


@users.command("list")
def users_list() -> None:
    """List accounts: email, role, and whether they can sign in."""
    from sqlalchemy import select

    from publisher.models.users import User

    ready_database()
    with session_scope() as session:
        for user in session.scalars(select(User).order_by(User.email)):
            state = "active" if user.active else "deactivated"
            click.echo(f"{user.email}\t{user.role.value}\t{state}")
