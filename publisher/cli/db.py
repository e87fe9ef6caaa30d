"""``publisher db``: the schema."""

from __future__ import annotations

import click

from publisher.cli.common import main
from publisher.db import get_engine
from publisher.migrate import downgrade, upgrade


@main.group()
def db() -> None:
    """Create or change the database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: all)."""
    upgrade(get_engine(), revision)
    click.echo("Database is up to date.")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION."""
    downgrade(get_engine(), revision)
    click.echo(f"Database is at {revision}.")
