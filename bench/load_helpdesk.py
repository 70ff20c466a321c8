"""django-helpdesk for bench/load.py: its own virtualenv, a minimal project, its data.

The virtualenv (var/bench/helpdesk-venv) gets django-helpdesk from PyPI at the pinned
version, gunicorn and psycopg. The project (var/bench/helpdesk-site) is what its install
guide asks for and no more: DEBUG off, PostgreSQL on the same server as Frontline's
(``hd_load``), persistent connections like Frontline's production profile (60 s), the
dummy email backend (Frontline queues its mail to a Celery worker; neither sends any).
Its data: 5 queues, one staff user, as many tickets as Frontline holds with 3 follow-ups
each (ORM ``bulk_create``), spread over a year, 70 % closed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "var" / "bench" / "helpdesk-venv"
SITE = ROOT / "var" / "bench" / "helpdesk-site"
VERSION = "2.6.1"
# The same gunicorn and psycopg as Frontline's virtualenv (Django comes with helpdesk: 5.2).
PACKAGES = [f"django-helpdesk=={VERSION}", "gunicorn==27.0.1", "psycopg[binary]==3.3.9"]

SETTINGS = """
import os
SECRET_KEY = os.environ["HD_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites", "django.contrib.humanize", "rest_framework", "helpdesk",
]
SITE_ID = 1
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "hdsite.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
WSGI_APPLICATION = "hdsite.wsgi.application"
_url = os.environ["HD_DATABASE_URL"].split("://", 1)[1]
_user, _rest = _url.split("@", 1)
_hostport, _name = _rest.split("/", 1)
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql", "NAME": _name, "USER": _user,
    "HOST": _hostport.split(":")[0], "PORT": _hostport.split(":")[1], "CONN_MAX_AGE": 60,
}}
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
STATIC_URL = "/static/"
LOGIN_URL = "/login/"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
HELPDESK_TEAMS_MODE_ENABLED = False  # teams need pinax-teams; Frontline's desk has no KB teams
HELPDESK_DEFAULT_SETTINGS = {"use_email_as_submitter": True, "email_on_ticket_assign": False,
                             "email_on_ticket_change": False, "login_view_ticketlist": True,
                             "tickets_per_page": 25}
"""

URLS = """
from django.contrib import admin
from django.urls import include, path
urlpatterns = [path("admin/", admin.site.urls), path("", include("helpdesk.urls", namespace="helpdesk"))]
"""

WSGI = """
import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdsite.settings")
application = get_wsgi_application()
"""

# Runs inside the helpdesk virtualenv: fill (when short of tickets), then print the
# fixtures (a staff session, a queue, open tickets) as JSON on the last line.
FILL = """
import datetime as dt, json, random, secrets, string, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from helpdesk.models import FollowUp, Queue, Ticket
want = int(sys.argv[1])
User = get_user_model()
staff = User.objects.filter(username="bench").first() or User.objects.create_superuser(
    "bench", "bench@example.com", "bench-" + secrets.token_hex(8))
queues = list(Queue.objects.order_by("pk"))
if not queues:
    queues = [Queue.objects.create(title=t, slug=s, allow_public_submission=True)
              for t, s in [("冷站", "chiller"), ("配电", "power"), ("暖通", "hvac"),
                           ("洁净区", "cleanroom"), ("综合", "general")]]
have = Ticket.objects.count()
rng = random.Random(1)
now = timezone.now()
titles = ["2# 冷机高压报警", "配电房 UPS 告警", "洁净区压差偏低", "AHU-3 送风温度偏高", "冷却塔风机异响"]
start = have
while have < want:
    batch = []
    for n in range(min(5000, want - have)):
        created = now - dt.timedelta(minutes=int(525600 * rng.random() ** 1.5) + 1)
        status = 4 if rng.random() < 0.7 else rng.choice([1, 1, 2, 3])
        batch.append(Ticket(title=rng.choice(titles), queue=queues[(have + n) % 5],
                            created=created, modified=created, submitter_email="customer@example.com",
                            assigned_to=staff, status=status, description="冷冻水出水温度偏高，请尽快处理。",
                            priority=3))
    made = Ticket.objects.bulk_create(batch)
    FollowUp.objects.bulk_create([
        FollowUp(ticket=t, date=t.created + dt.timedelta(minutes=m), title="跟进",
                 comment=c, public=True, user=staff)
        for t in made for m, c in [(5, "已收到，正在处理。"), (60, "工程师已到现场。"),
                                   (180, "已处理完成，请确认。")]
    ])
    have += len(made)
    print(f"  helpdesk tickets {have:,}/{want:,}", flush=True)
client = Client()
client.force_login(staff)
open_ids = [list(t) for t in Ticket.objects.filter(status=1).order_by("-id")
            .values_list("id", "title", "queue_id")[:1000]]
csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
print(json.dumps({"session": client.cookies["sessionid"].value, "csrf": csrf,
                  "queue": queues[0].pk, "tickets": open_ids, "filled": have - start}))
"""


def _env(url: str) -> dict:
    secret = os.environ.setdefault("HD_SECRET_KEY", os.urandom(24).hex())
    return {**os.environ, "HD_DATABASE_URL": url, "HD_SECRET_KEY": secret,
            "DJANGO_SETTINGS_MODULE": "hdsite.settings", "PYTHONPATH": str(SITE)}  # fmt: skip


def install() -> None:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)  # noqa: S603
    have = subprocess.run(  # noqa: S603
        [str(python), "-c", "import helpdesk, gunicorn, psycopg; from importlib.metadata "
         "import version; print(version('django-helpdesk'))"],
        capture_output=True, text=True,
    )  # fmt: skip
    if have.returncode != 0 or have.stdout.strip() != VERSION:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PACKAGES], check=True)  # noqa: S603
    pkg = SITE / "hdsite"
    pkg.mkdir(parents=True, exist_ok=True)
    for name, text in {"__init__.py": "", "settings.py": SETTINGS, "urls.py": URLS,
                       "wsgi.py": WSGI}.items():  # fmt: skip
        (pkg / name).write_text(text.lstrip())
    (SITE / "fill.py").write_text(FILL.lstrip())


def prepare_helpdesk(url: str, *, tickets: int, regenerate: bool) -> dict:
    from desk import ensure_database

    if regenerate:
        from load import _recreate

        _recreate(url)
    ensure_database(url)
    install()
    python = str(VENV / "bin" / "python")
    env = _env(url)
    subprocess.run([python, "-m", "django", "migrate", "-v0"], env=env, check=True)  # noqa: S603
    out = subprocess.run(  # noqa: S603
        [python, str(SITE / "fill.py"), str(tickets)], env=env, check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    pages = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"django-helpdesk {VERSION}: {tickets:,} tickets ({pages['filled']:,} written now)")
    return {"version": VERSION, "tickets": tickets, "pages": pages}


def start_helpdesk(url: str, port: int, workers: int, var: Path) -> subprocess.Popen:
    from load import wait_for

    log = open(var / "helpdesk-server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(  # noqa: S603
        [str(VENV / "bin" / "python"), "-m", "gunicorn", "hdsite.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "60"],
        env=_env(url), cwd=SITE, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    wait_for(f"http://127.0.0.1:{port}/login/", proc)
    return proc
