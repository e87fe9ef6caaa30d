"""Secrets and files (issue 11, point 9), probed from outside.

- a missing, empty or short (< 32 bytes) secret key is refused with a clear error;
- the data folder, the SQLite database with its -wal and -shm files, the secret key and
  the outbox's .eml files are owner-only, whatever the umask;
- the tokens in confirm, manage and unsubscribe links never reach the access log.

The last two run the real web server (gunicorn, as ``publisher run`` starts it) in a
process of its own, with the default umask (022), and sign up through it over HTTP.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
import requests

from publisher.config import reset_settings
from publisher.secret import WeakSecretKey, secret_key
from publisher.web import create_app
from tests.conftest import TEST_REDIS_URL
from tests.worker import ROOT


@pytest.mark.parametrize("key", ["", "   ", "short-key", "x" * 31])
def test_a_weak_secret_key_in_the_environment_is_refused(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLISHER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", key)
    reset_settings()
    try:
        with pytest.raises(WeakSecretKey, match="at least 32 bytes"):
            create_app()
    finally:
        reset_settings()


@pytest.mark.parametrize("content", ["", "\n", "abc"])
def test_an_empty_or_short_key_file_is_refused_not_used(
    content: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PUBLISHER_DATA_DIR", str(tmp_path))
    (tmp_path / "secret_key").write_text(content)
    reset_settings()
    try:
        with pytest.raises(WeakSecretKey) as refused:
            secret_key()
        assert str(tmp_path / "secret_key") in str(refused.value)
        # Not silently replaced: that would end every link already sent.
        assert (tmp_path / "secret_key").read_text() == content
    finally:
        reset_settings()


def test_a_missing_key_file_is_made_long_random_and_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("PUBLISHER_DATA_DIR", str(data))
    reset_settings()
    old = os.umask(0o022)
    try:
        key = secret_key()
    finally:
        os.umask(old)
        reset_settings()
    assert len(key.encode()) >= 32
    assert stat.S_IMODE((data / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def served(tmp_path: Path, redis_prefix: str) -> Iterator[tuple[str, Path, Path]]:
    """gunicorn serving the app (SQLite in its data folder, emails to the outbox),
    with the access log written to a file."""
    data = tmp_path / "var"
    log = tmp_path / "access.log"
    port = _free_port()
    env = dict(os.environ)
    for name in ("SMTP_URL", "NOTIFY_API_KEY", "MAIL_TRANSPORT", "SECRET_KEY", "DATABASE_URL"):
        env.pop(name, None)
    env.update(
        PUBLISHER_DATA_DIR=str(data),
        REDIS_URL=TEST_REDIS_URL,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        CELERY_KEY_PREFIX=redis_prefix,
    )
    factory = (
        "publisher.web:create_app({'SUBSCRIPTIONS_SEND_INLINE': True, "
        f"'SUBSCRIPTIONS_KEY_PREFIX': '{redis_prefix}'}})"
    )
    # The schema first, as `publisher run` does (`publisher db upgrade`).
    subprocess.run(
        [sys.executable, "-m", "publisher", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            str(log),
            "--logger-class",
            "publisher.web.accesslog.AccessLogger",
            factory,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: os.umask(0o022),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/healthz", timeout=10).status_code < 500:
                    break
            except requests.RequestException:  # not listening yet, or still starting up
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            assert proc.poll() is None, "gunicorn stopped"
            time.sleep(0.2)
        yield url, data, log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _sign_up(url: str, email: str) -> None:
    http = requests.Session()
    page = http.get(url + "/subscriptions/", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = http.post(
        url + "/subscriptions/",
        data={
            "csrf_token": token.group(1),
            "email": email,
            "frequency": "weekly",
            "format": "html",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, answer.text


def test_data_folder_database_and_outbox_are_owner_only(
    served: tuple[str, Path, Path],
) -> None:
    url, data, _ = served
    _sign_up(url, f"owner-only-{uuid.uuid4().hex[:6]}@example.org")
    database = data / "publisher.sqlite3"
    files = [database, data / "secret_key", *sorted((data / "outbox").glob("*.eml"))]
    files += [p for p in (Path(f"{database}-wal"), Path(f"{database}-shm")) if p.exists()]
    assert Path(f"{database}-wal").exists(), "the server runs SQLite in WAL mode"
    assert len(list((data / "outbox").glob("*.eml"))) == 1
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in (data, data / "outbox"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_link_tokens_stay_out_of_the_access_log(served: tuple[str, Path, Path]) -> None:
    url, data, log = served
    _sign_up(url, f"log-{uuid.uuid4().hex[:6]}@example.org")
    (eml,) = list((data / "outbox").glob("*.eml"))
    mail = message_from_bytes(eml.read_bytes(), policy=email_policy.default)
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    confirm = re.search(re.escape(url) + r"(/subscriptions/confirm/([^\s/]+))", body.get_content())
    assert confirm
    path, token = confirm.group(1), confirm.group(2)
    assert requests.get(url + path, timeout=10).status_code == 200
    # A page opened from the link sends it as the Referer: that is hidden too.
    requests.get(url + "/privacy", headers={"Referer": url + path}, timeout=10)
    deadline = time.monotonic() + 10
    while "/privacy" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log.read_text()
    assert "/subscriptions/confirm/[token]" in text
    assert token not in text
    assert token[:20] not in text
