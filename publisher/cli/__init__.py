"""The ``publisher`` command. Each area adds its commands from a module of its own,
imported here so that they register on the root group."""

from __future__ import annotations

from publisher.cli import db as _db  # noqa: F401
from publisher.cli import editions as _editions  # noqa: F401
from publisher.cli import feeds as _feeds  # noqa: F401
from publisher.cli import insight as _insight  # noqa: F401
from publisher.cli import report as _report  # noqa: F401
from publisher.cli import reviews as _reviews  # noqa: F401
from publisher.cli import run as _run  # noqa: F401
from publisher.cli import sources as _sources  # noqa: F401
from publisher.cli import subscribers as _subscribers  # noqa: F401
from publisher.cli import topics as _topics  # noqa: F401
from publisher.cli import users as _users  # noqa: F401
from publisher.cli.common import main

__all__ = ["main"]
