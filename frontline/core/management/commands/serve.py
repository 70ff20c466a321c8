"""``frontline serve``: the web server, optionally with a Celery worker and beat beside it.

Development runs Django's runserver; ``FRONTLINE_ENV=production`` runs gunicorn. Each
child gets its own process group so that stopping (Ctrl-C, SIGTERM) ends the whole
tree, including runserver's autoreloader child and the worker's pool, and when one
child dies the others are stopped too: nothing is left running half.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_TIMEOUT_S = 10.0


def web_command(*, host: str, port: int, workers: int) -> list[str]:
    python = sys.executable
    if settings.PRODUCTION:
        return [
            python,
            "-m",
            "gunicorn",
            "frontline.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
        ]
    manage = str(settings.BASE_DIR / "manage.py")
    return [python, manage, "runserver", f"{host}:{port}"]


def celery_commands(*, loglevel: str) -> dict[str, list[str]]:
    celery = [sys.executable, "-m", "celery", "-A", "frontline"]
    # The embedded SQLite broker is for one machine: a single-process worker suits it.
    pool = ["--pool=solo"] if not settings.REDIS_URL else ["--pool=threads", "--concurrency=4"]
    return {
        "worker": [*celery, "worker", "-l", loglevel, *pool],
        "beat": [*celery, "beat", "-l", loglevel, "-s", settings.CELERY_BEAT_SCHEDULE_FILENAME],
    }


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
            "--workers", type=int, default=2, help="gunicorn worker processes (production)"
        )
        parser.add_argument(
            "--with-worker", action="store_true", help="also run a Celery worker and Celery beat"
        )
        parser.add_argument("--loglevel", default="info", help="Celery log level")

    def handle(self, *args, host, port, workers, with_worker, loglevel, **options):
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535")
        supervisor = Supervisor(self.stdout)

        def on_signal(signum, frame):
            supervisor.stop()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            supervisor.start("web", web_command(host=host, port=port, workers=workers))
            if with_worker:
                for name, argv in celery_commands(loglevel=loglevel).items():
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
