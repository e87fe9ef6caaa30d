"""``publisher subscribers import FILE.csv`` and ``publisher subscribers list [--json]``."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from publisher.cli.common import fail, main, print_json_line, ready_database
from publisher.db import session_scope
from publisher.models import EndReason, Subscriber
from publisher.subscriptions import lifecycle
from publisher.subscriptions.addresses import InvalidAddress, normalise_email
from publisher.subscriptions.importer import ImportFileError, import_csv


@main.group()
def subscribers() -> None:
    """People who get Local Offer emails."""


@subscribers.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Import FILE.csv as confirmed subscribers; report rows that were rejected and why.

    Columns: email, age_bands, needs, categories, localities, frequency, consent_source,
    consented_at. Put ; between values, e.g. "0-5;5-11".
    """
    ready_database()
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            with session_scope() as session:
                report = import_csv(session, fh)
    except FileNotFoundError:
        fail(f"no file at {path}")
        return
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text; save it as CSV UTF-8 and try again")
        return
    except ImportFileError as exc:
        fail(f"{path}: {exc}. Nothing was imported.")
        return
    for rejected in report.rejected:
        click.echo(
            f"Row {rejected.row} rejected ({rejected.email or 'no address'}): {rejected.reason}",
            err=True,
        )
    click.echo(f"Imported {report.imported} subscriber(s); rejected {len(report.rejected)} row(s).")
    if report.rejected and report.imported == 0:
        raise SystemExit(1)


@subscribers.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_command(as_json: bool) -> None:
    """List subscribers (erased ones have no address and are left out)."""
    ready_database()
    with session_scope() as session:
        rows = session.scalars(
            select(Subscriber).where(Subscriber.email.is_not(None)).order_by(Subscriber.id)
        ).all()
        for s in rows:
            record = {
                "id": s.id,
                "email": s.email,
                "status": s.status.value,
                "frequency": s.frequency.value,
                "format": s.format.value,
                "age_bands": s.age_bands,
                "needs": s.needs,
                "categories": s.categories,
                "localities": s.localities,
                "paid_opt_in": s.paid_opt_in,
                "created_at": s.created_at.isoformat() if s.created_at else None,
                "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else None,
                "ended_at": s.ended_at.isoformat() if s.ended_at else None,
                "end_reason": s.end_reason.value if s.end_reason else None,
            }
            if as_json:
                print_json_line(record)
            else:
                prefs = ", ".join(
                    f"{k}={';'.join(record[k]) or 'all'}"  # type: ignore[arg-type]
                    for k in ("age_bands", "needs", "categories", "localities")
                )
                click.echo(f"{s.id}\t{s.email}\t{s.status.value}\t{s.frequency.value}\t{prefs}")
        if not as_json:
            click.echo(f"{len(rows)} subscriber(s)")


@subscribers.command("erase")
@click.argument("email")
def erase_command(email: str) -> None:
    """Stop all email to EMAIL and delete its data now (a request by phone or letter).

    Keeps only the hashed suppression record, so the address is never mailed again.
    """
    ready_database()
    try:
        address = normalise_email(email)
    except InvalidAddress as exc:
        fail(f"{email!r}: {exc}")
        return
    with session_scope() as session:
        subscriber = lifecycle.find_by_email(session, address)
        if subscriber is None:
            # Suppress anyway: they asked not to be emailed, whether or not we knew them.
            lifecycle.suppress(session, address, EndReason.DELETED)
            click.echo(f"{address} was not on the list; it is now suppressed.")
            return
        lifecycle.erase(session, subscriber, EndReason.DELETED)
    click.echo(f"Erased {address}; only a hashed suppression record is kept.")
