"""The data folder and the files in it are for the service's own user only.

The folder holds the SQLite database (with its -wal and -shm files), the generated secret
key, the embedded Redis socket and the outbox of saved emails: subscribers' addresses
and signed links. Whatever the umask, the folder is made 0700 and files 0600. SQLite
creates its -wal and -shm files with the permissions of the database file, so making
the database file owner-only first is enough for all three.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Make ``path`` (and missing parents) and take group and other access away from it."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make ``path`` empty and owner-only if it is missing; tighten it if it exists.
    A missing folder above it is made owner-only; an existing one is left as it is (it
    may be anyone's: DATABASE_URL can point anywhere)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    _tighten(path, FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file that only the owner can read (replacing any)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    _tighten(path, FILE_MODE)


def sqlite_files(database: Path) -> None:
    """Before SQLite opens ``database``: make it owner-only (new, or left 0644 by an
    earlier version), and its -wal and -shm files if they exist."""
    private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        other = database.with_name(database.name + suffix)
        if other.exists():
            _tighten(other, FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    # Only our own files: a folder such as /tmp that belongs to someone else is left alone.
    try:
        st = path.stat()
    except OSError:
        return
    if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, stat.S_IMODE(st.st_mode) & mode)
