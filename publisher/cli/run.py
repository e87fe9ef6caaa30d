"""``publisher run``: web app, worker and beat together, with a demo directory."""

from __future__ import annotations

import click

from publisher.cli.common import main


@main.command()
def run() -> None:
    """Start the web app, a Celery worker and beat together (work in progress)."""
    raise click.ClickException("not yet: publisher run is being built")
