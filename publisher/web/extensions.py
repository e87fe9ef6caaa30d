"""Flask extensions, in a module of their own (as the Flask tutorial does) so that
blueprints can use them without importing the app factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

View = TypeVar("View", bound=Callable[..., Any])


def csrf_exempt(view: View) -> View:
    """Mark a machine-to-machine endpoint (JSON or a bearer token) as exempt from CSRF;
    Flask-WTF's own decorator is untyped."""
    return cast(View, csrf.exempt(view))
