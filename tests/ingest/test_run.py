"""`publisher run --demo`: the newcomer's command, end to end with embedded Redis."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from publisher.config import reset_settings
from tests.worker import ROOT, wait_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _changes(env: dict[str, str]) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "publisher", "changes", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_run_demo_shows_a_baseline_then_changes(tmp_path: Path):
    web, demo = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        PUBLISHER_DATA_DIR=str(tmp_path / "var"),
        CRAWL_INTERVAL_MINUTES="0.05",  # every 3 seconds
        DEMO_CHANGE_SECONDS="2",
        # Time runs fast here: on a busy machine several services can vanish between two
        # crawls, which a real directory would have held for an officer to confirm.
        CRAWL_MAX_REMOVED_SHARE="1",
    )
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "publisher",
            "run",
            "--demo",
            "--port",
            str(web),
            "--demo-port",
            str(demo),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def healthy() -> bool:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web}/healthz", timeout=2) as r:
                    body = json.loads(r.read())
                return body["sources"][0]["last_crawl"]["status"] == "complete"
            except OSError:
                return False

        assert wait_for(healthy, timeout=60), (tmp_path / "run.log").read_text()[-3000:]
        assert wait_for(lambda: len(_changes(env)) > 0, timeout=60, every=1.0), (
            tmp_path / "run.log"
        ).read_text()[-3000:]
        kinds = {c["kind"] for c in _changes(env)}
        assert kinds <= {"added", "updated", "removed", "reopened", "became_stale"}
        # The demo's officer account works, and the changes became drafts in its queue.
        import re

        import requests
        from sqlalchemy import create_engine, text

        log_text = (tmp_path / "run.log").read_text()
        found = re.search(r"as (\S+) with the password (\S+) \(shown once\)", log_text)
        assert found, log_text[-3000:]
        officer = requests.Session()
        login = officer.get(f"http://127.0.0.1:{web}/console/login", timeout=10)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token
        signed_in = officer.post(
            f"http://127.0.0.1:{web}/console/login",
            data={
                "email": found.group(1),
                "password": found.group(2),
                "csrf_token": token.group(1),
            },
            timeout=10,
        )
        assert signed_in.status_code == 200 and "Sign out" in signed_in.text
        engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'publisher.sqlite3'}")

        def drafted() -> bool:
            with engine.connect() as conn:
                return bool(conn.execute(text("SELECT count(*) FROM social_posts")).scalar())

        assert wait_for(drafted, timeout=60, every=1.0), log_text[-3000:]
        engine.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    # The embedded Redis went with it.
    pid_file = tmp_path / "var" / "redis" / "redis.pid"
    pid = int(pid_file.read_text())
    assert wait_for(lambda: not Path(f"/proc/{pid}").exists(), timeout=10)


def test_demo_service_pages_show_an_entry(db, monkeypatch):
    from publisher.db import session_scope
    from publisher.web import create_app
    from tests.factories import make_entry, make_source

    monkeypatch.setenv("PUBLISHER_DEMO", "1")
    reset_settings()  # settings are read once (tests/settings_env.py)
    with session_scope() as session:
        source = make_source(session, "demo")
        make_entry(session, source, "d-1", "Sensory <play> group", minimum_age=0, maximum_age=5)
    client = create_app({"TESTING": True}).test_client()
    page = client.get("/demo/services/d-1")
    assert page.status_code == 200
    assert b"Sensory &lt;play&gt; group" in page.data and b"Ages 0 to 5" in page.data
    assert client.get("/demo/services/nope").status_code == 404
    monkeypatch.delenv("PUBLISHER_DEMO")
    reset_settings()  # settings are read once (tests/settings_env.py)
    assert create_app({"TESTING": True}).test_client().get("/demo/services/d-1").status_code == 404
