"""`frontline serve`: which server runs, and that stopping stops every child."""

from __future__ import annotations

import io
import os
import sys
import time

from frontline.core.management.commands import serve


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); read its state.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _group_alive(pgid: int) -> bool:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().split(")")[-1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(entry)
    return bool(members)


def test_development_runs_runserver(settings):
    settings.PRODUCTION = False
    argv = serve.web_command(host="127.0.0.1", port=8123, workers=2)
    assert argv[-2:] == ["runserver", "127.0.0.1:8123"]


def test_production_runs_gunicorn(settings):
    settings.PRODUCTION = True
    argv = serve.web_command(host="0.0.0.0", port=8000, workers=4)  # noqa: S104
    assert argv[1:4] == ["-m", "gunicorn", "frontline.wsgi:application"]
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8000"
    assert argv[argv.index("--workers") + 1] == "4"


def test_celery_uses_a_single_process_on_the_embedded_broker(settings):
    settings.REDIS_URL = ""
    commands = serve.celery_commands(loglevel="info")
    assert "--pool=solo" in commands["worker"]
    assert commands["beat"][5:7] == ["beat", "-l"]


def test_when_one_child_dies_the_others_are_stopped():
    supervisor = serve.Supervisor(io.StringIO())
    # The long sleeper starts a grandchild to prove the whole process group goes.
    sleeper = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"
    supervisor.start("web", [sys.executable, "-c", sleeper])
    supervisor.start(
        "worker", [sys.executable, "-c", "import sys, time; time.sleep(0.3); sys.exit(3)"]
    )

    started = time.monotonic()
    code = supervisor.wait()

    assert code == 3
    assert time.monotonic() - started < serve.STOP_TIMEOUT_S
    assert all(proc.poll() is not None for proc in supervisor.children.values())
    web_pid = supervisor.children["web"].pid
    assert not _alive(web_pid)


def test_stop_ends_children_and_their_process_groups():
    supervisor = serve.Supervisor(io.StringIO())
    supervisor.start("web", ["sh", "-c", "sleep 60 & sleep 60 & wait"])
    time.sleep(0.3)
    pgid = supervisor.children["web"].pid

    supervisor.stop()

    # Orphaned grandchildren are reaped by init a moment later; none may survive.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.05)
    assert not _group_alive(pgid)
