"""The application's secret key: from SECRET_KEY, or made once and kept in the data folder.

A generated key lets a newcomer run the service without inventing one, and it is never
committed: it lives beside the SQLite file, readable only by its owner.
"""

from __future__ import annotations

import os
import secrets

from publisher.config import get_settings


def secret_key() -> str:
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two processes race, one writes and both read the same key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
