"""The root command group and what every command shares."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from publisher.db import get_engine
from publisher.migrate import upgrade


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="local-offer-publisher")
def main() -> None:
    """Local Offer Publisher: turns Local Offer changes into news for families.

    Every command reads DATABASE_URL (default: an SQLite file in ./var).
    """


def ready_database() -> None:
    """Bring the schema up to date before a command uses it (cheap when it already is)."""
    upgrade(get_engine())


def print_json_line(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)
