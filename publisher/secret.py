"""The application's secret key: from SECRET_KEY, or made once and kept in the data folder.

A generated key lets a newcomer run the service without inventing one, and it is never
committed: it lives beside the SQLite file, readable only by its owner.

The key signs subscribers' links and officers' sessions, so a weak one makes them
forgeable: a key shorter than 32 bytes (empty included), from SECRET_KEY or from the
file, is refused with a clear error rather than used. A missing file is made, with a
fresh random key; an existing file is never overwritten (that would end every link).
"""

from __future__ import annotations

import os
import secrets

from publisher.config import get_settings
from publisher.datafiles import private_dir

MIN_KEY_BYTES = 32


class WeakSecretKey(RuntimeError):
    """The configured secret key cannot be used; the message says what to do."""


def _checked(key: str, where: str) -> str:
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        what = "empty" if not key else f"only {len(key.encode('utf-8'))} bytes long"
        raise WeakSecretKey(
            f"The secret key in {where} is {what}; it must be at least {MIN_KEY_BYTES} "
            "bytes of random text, or links and sessions could be forged. Make one with: "
            'python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    return key


def secret_key() -> str:
    settings = get_settings()
    # SECRET_KEY present but empty is a mistake in a deployment's settings, not "unset".
    if "SECRET_KEY" in os.environ:
        return _checked(settings.secret_key, "SECRET_KEY")
    path = settings.data_dir / "secret_key"
    try:
        return _checked(path.read_text().strip(), str(path))
    except FileNotFoundError:
        pass
    private_dir(settings.data_dir)
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two processes race, one writes and both read the same key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _checked(path.read_text().strip(), str(path))
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
