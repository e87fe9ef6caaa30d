"""``publisher run``: the web app, a Celery worker and beat together, for one machine.

In production run them separately (gunicorn, ``celery -A publisher worker``,
``celery -A publisher beat``). This command is for a laptop and the demo: with no
REDIS_URL it starts the embedded Redis once and shares it with its children, and with
``--demo`` it serves a made-up ORUK directory that changes every minute or so, so that
a newcomer sees a baseline and then changes arrive.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
from sqlalchemy import select

from publisher.cli.common import main, ready_database
from publisher.config import get_settings, reset_settings
from publisher.db import session_scope
from publisher.models import Source

ROOT = Path(__file__).resolve().parents[2]


def _start_demo_directory(port: int, count: int) -> tuple[str, threading.Event]:
    from publisher.demo.directory import DirectoryServer, DirectoryState
    from publisher.demo.generate import add_saturday_mornings, make_service, make_services, touch

    today = dt.date.today()
    state = DirectoryState(services=make_services(count, seed=2026, today=today), version="3")
    # One entry not checked for two years, so the stale report has something in it.
    state.services[3]["assured_date"] = (today - dt.timedelta(days=730)).isoformat()
    state.services[3]["pc_metadata"]["date_assured"] = state.services[3]["assured_date"]
    server = DirectoryServer(state, port=port).start()
    stop = threading.Event()
    interval = float(os.environ.get("DEMO_CHANGE_SECONDS", "90"))

    def mutate() -> None:
        rng = random.Random(7)
        step = 0
        while not stop.wait(interval):
            step += 1
            with state.lock:
                action = step % 3
                if action == 1:
                    state.services.append(make_service(rng, count + step, today))
                elif action == 2:
                    svc = rng.choice(state.services)
                    touch(svc, dt.date.today(), "New: sessions now also on Saturday mornings.")
                    add_saturday_mornings(svc)
                else:
                    state.services.pop(rng.randrange(len(state.services)))
        server.stop()

    threading.Thread(target=mutate, daemon=True, name="demo-directory").start()
    return server.url, stop


def _demo_admin() -> tuple[str, str] | None:
    """A console account for the demo, made once; its password is shown once."""
    import secrets

    from sqlalchemy import func

    from publisher.console.users import create_user
    from publisher.models.users import User
    from publisher.social.accounts import create_account

    with session_scope() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
        password = secrets.token_urlsafe(15)
        create_user(session, "admin@example.org", "admin", password)
        # Drafts need an account to be drafted for. This one is not connected to any
        # Mastodon server: drafting, editing, approval and scheduling work; publishing
        # fails with a clear error until an admin gives it a real server and token.
        create_account(
            session,
            None,
            "mastodon",
            "Demo Mastodon (not connected)",
            settings={"api_base_url": "http://127.0.0.1:9"},
            creds={"access_token": "not-a-real-token"},
        )
    return "admin@example.org", password


def _register_demo_source(url: str) -> None:
    from publisher.ingest import add_source, crawl_source

    base = get_settings().public_base_url
    with session_scope() as session:
        source = session.scalar(select(Source).where(Source.name == "demo"))
        if source is None:
            add_source(session, "demo", url, f"{base}/demo/services/{{id}}")
        else:
            source.location = url  # the demo server's port may differ from last time
    summary = crawl_source("demo")
    click.echo(summary.line())


@main.command()
@click.option(
    "--demo", is_flag=True, help="Serve and crawl a made-up directory that keeps changing."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address for the web app.")
@click.option("--port", default=8000, show_default=True, help="Port for the web app.")
@click.option("--demo-port", default=8001, show_default=True, help="Port for the demo directory.")
def run(demo: bool, host: str, port: int, demo_port: int) -> None:
    """Start the web app, a Celery worker and beat together (Ctrl-C stops all)."""
    env = dict(os.environ)
    env["PUBLISHER_LOCAL"] = "1"  # shows the local outbox at /outbox/
    if demo:
        env["PUBLISHER_DEMO"] = "1"
        # A made-up contact, so the demo's pages show where a real one goes.
        env.setdefault("COUNCIL_CONTACT_EMAIL", "localoffer@example.org")
        # Crawl every minute so that the demo's changes show up quickly.
        env.setdefault("CRAWL_INTERVAL_MINUTES", "1")
        env.setdefault("CRAWL_MIN_REQUEST_INTERVAL", "0")
        env.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")
        # The demo directory is on loopback, which outgoing requests refuse unless named.
        env["OUTGOING_ALLOWLIST"] = ",".join(
            filter(None, [env.get("OUTGOING_ALLOWLIST", ""), f"127.0.0.1:{demo_port}"])
        )
        os.environ.update(
            {
                k: env[k]
                for k in (
                    "CRAWL_INTERVAL_MINUTES",
                    "CRAWL_MIN_REQUEST_INTERVAL",
                    "PUBLIC_BASE_URL",
                    "OUTGOING_ALLOWLIST",
                )
            }
        )
        reset_settings()
    settings = get_settings()
    ready_database()
    if not settings.redis_url:
        from publisher.redis_embedded import ensure_running, socket_url

        sock = ensure_running()
        env["REDIS_URL"] = socket_url()
        click.echo(f"Embedded Redis on {sock}")
    env.setdefault("DATABASE_URL", settings.database_url)
    env.setdefault("PUBLISHER_DATA_DIR", str(settings.data_dir))

    stop_demo: threading.Event | None = None
    if demo:
        url, stop_demo = _start_demo_directory(demo_port, 40)
        click.echo(f"Demo directory (ORUK 3.0) at {url}")
        os.environ["REDIS_URL"] = env["REDIS_URL"]
        reset_settings()
        _register_demo_source(url)
        admin = _demo_admin()
        if admin:
            click.echo(
                f"Officer console: sign in at http://{host}:{port}/console as {admin[0]} "
                f"with the password {admin[1]} (shown once)"
            )

    bin_dir = Path(sys.executable).parent
    commands = {
        "web": [
            str(bin_dir / "gunicorn"),
            "--bind",
            f"{host}:{port}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
            # Subscribers' link tokens never reach the access log.
            "--logger-class",
            "publisher.web.accesslog.AccessLogger",
            "publisher.web:create_app()",
        ],
        "worker": [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "publisher",
            "worker",
            "--loglevel",
            "INFO",
            "-Q",
            "default,crawl,newsletters,feeds,social",
            "--concurrency",
            "2",
        ],
        "beat": [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "publisher",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(settings.data_dir / "celerybeat-schedule"),
        ],
    }
    procs = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in commands.items()}  # noqa: S603
    click.echo(f"Local Offer Publisher is running: open http://{host}:{port}/ (Ctrl-C to stop)")
    if get_settings().mail.transport == "outbox":
        click.echo(
            f"No SMTP_URL or NOTIFY_API_KEY, so emails are saved, not sent: "
            f"read them at http://{host}:{port}/outbox/"
        )

    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    click.echo(
                        f"{name} stopped with exit code {proc.returncode}; stopping the rest",
                        err=True,
                    )
                    stopping = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if stop_demo is not None:
            stop_demo.set()
        click.echo("Stopped.")
