"""``frontline serve``: the web server, optionally with Celery workers and beat beside it.

Development runs Django's runserver; ``FRONTLINE_ENV=production`` runs gunicorn
(``--workers``, default ``WEB_WORKERS`` or 2 × cores + 1, at most 12) with the metrics
of all its processes collected in ``PROMETHEUS_MULTIPROC_DIR`` (stale files removed at start).
``--with-worker`` adds ``--celery-workers`` Celery workers (default ``CELERY_WORKERS``
or 1) and one beat; ``--prepare`` migrates, collects static files and loads the demo
into an empty database first (what ``make run-prod`` does through ``bin/run-prod``).

Each child gets its own process group so that stopping (Ctrl-C, SIGTERM) ends the whole
tree, including runserver's autoreloader child and the worker's pool, and when one
child dies the others are stopped too: nothing is left running half.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from frontline.core.metrics import MULTIPROC_ENV
from frontline.env import env_int

STOP_TIMEOUT_S = 10.0
MAX_WEB_WORKERS = 12
GUNICORN_CONFIG = "python:frontline.core.gunicorn_conf"


def default_web_workers(cpus: int | None = None) -> int:
    """gunicorn's rule of thumb, 2 × cores + 1, capped: each worker holds its own memory
    and database connection, and past a dozen the database is the limit, not Python."""
    cpus = cpus or os.cpu_count() or 1
    return min(2 * cpus + 1, MAX_WEB_WORKERS)


def web_command(*, host: str, port: int, workers: int) -> list[str]:
    python = sys.executable
    if settings.PRODUCTION:
        # No gunicorn access log: the request log (frontline.request) has the request id.
        return [
            python,
            "-m",
            "gunicorn",
            "frontline.wsgi:application",
            "--config",
            GUNICORN_CONFIG,
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
        ]
    manage = str(settings.BASE_DIR / "manage.py")
    return [python, manage, "runserver", f"{host}:{port}"]


def celery_commands(*, loglevel: str, workers: int = 1) -> dict[str, list[str]]:
    celery = [sys.executable, "-m", "celery", "-A", "frontline"]
    # The embedded SQLite broker is for one machine: a single-process worker suits it.
    pool = ["--pool=solo"] if not settings.REDIS_URL else ["--pool=threads", "--concurrency=4"]
    commands = {}
    for number in range(1, workers + 1):
        name = "worker" if workers == 1 else f"worker-{number}"
        commands[name] = [*celery, "worker", "-l", loglevel, *pool, "-n", f"worker{number}@%h"]
    commands["beat"] = [
        *celery,
        "beat",
        "-l",
        loglevel,
        "-s",
        settings.CELERY_BEAT_SCHEDULE_FILENAME,
    ]
    return commands


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_metrics_dir(environ=os.environ) -> Path:
    """The shared folder for the metrics of every child process.

    The files of processes that are gone (a previous run) are removed, or their counters
    would carry over a restart; those of live processes (Celery workers of this node
    writing into the same folder) are kept. Files are named ``<kind>_<pid>.db``.
    """
    path = Path(environ.get(MULTIPROC_ENV) or settings.VAR_DIR / "prometheus")
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        pid = stale.stem.rpartition("_")[2]
        if not (pid.isdigit() and _pid_alive(int(pid))):
            stale.unlink(missing_ok=True)
    environ[MULTIPROC_ENV] = str(path)
    return path


def prepare_database(stdout) -> None:
    """What a fresh production host needs before it serves: schema, static files, demo."""
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("demo", if_empty=True, stdout=stdout)
    # The children open their own connections; this process keeps none while it waits.
    connections.close_all()


class Supervisor:
    """Start children in their own process groups; stop them all together."""

    def __init__(self, stdout):
        self.stdout = stdout
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self, name: str, argv: list[str]) -> None:
        self.stdout.write(f"starting {name}: {' '.join(argv)}")
        self.children[name] = subprocess.Popen(argv, start_new_session=True)  # noqa: S603

    def _signal_all(self, sig: int) -> None:
        for proc in self.children.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass

    def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and any(p.poll() is None for p in self.children.values()):
            time.sleep(0.1)
        self._signal_all(signal.SIGKILL)
        for proc in self.children.values():
            proc.wait()

    def wait(self) -> int:
        """Block until a child exits or we are told to stop; return the exit code to use."""
        while not self.stopping:
            for name, proc in self.children.items():
                code = proc.poll()
                if code is not None:
                    self.stdout.write(f"{name} exited with status {code}; stopping the others")
                    self.stop()
                    return code or 1
            time.sleep(0.2)
        return 0


class Command(BaseCommand):
    help = "Run the web server (runserver in development, gunicorn in production), optionally with Celery."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=env_int("WEB_WORKERS", 0) or default_web_workers(),
            help="gunicorn worker processes (production; default WEB_WORKERS or 2 × cores + 1)",
        )
        parser.add_argument(
            "--with-worker", action="store_true", help="also run Celery worker(s) and Celery beat"
        )
        parser.add_argument(
            "--celery-workers",
            type=int,
            default=env_int("CELERY_WORKERS", 1),
            help="Celery worker processes with --with-worker (default CELERY_WORKERS or 1)",
        )
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="first migrate, collect static files and load the demo into an empty database",
        )
        parser.add_argument("--loglevel", default="info", help="Celery log level")

    def handle(self, *args, host, port, workers, with_worker, celery_workers, loglevel, **options):
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535")
        if workers < 1 or celery_workers < 1:
            raise CommandError("--workers and --celery-workers must be at least 1")
        if options["prepare"]:
            prepare_database(self.stdout)
        if settings.PRODUCTION:
            prepare_metrics_dir()
        supervisor = Supervisor(self.stdout)

        def on_signal(signum, frame):
            supervisor.stop()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            supervisor.start("web", web_command(host=host, port=port, workers=workers))
            if with_worker:
                commands = celery_commands(loglevel=loglevel, workers=celery_workers)
                for name, argv in commands.items():
                    supervisor.start(name, argv)
            self.stdout.write(f"Frontline is on http://{host}:{port}/ — press Ctrl-C to stop.")
            code = supervisor.wait()
        finally:
            supervisor.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if code:
            raise CommandError(f"a child process exited with status {code}", returncode=code)
        self.stdout.write("stopped")
