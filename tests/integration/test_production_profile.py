"""The production profile for real: gunicorn with two workers on PostgreSQL and Redis.

Starts ``frontline serve`` with FRONTLINE_ENV=production against the test database
(committed data, so the server's processes see it), then asks it for /healthz, a page,
the API and /metrics, whose counters are summed over both gunicorn workers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fl_prod REDIS_URL=redis://127.0.0.1:6379/7 \\
      .venv/bin/pytest -n 0 tests/integration/test_production_profile.py
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import require_url

pytestmark = pytest.mark.integration

PORT = int(os.environ.get("PRODUCTION_PROFILE_TEST_PORT", "8101"))
BASE = f"http://127.0.0.1:{PORT}"
_STRIP = {"DEBUG", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT", "PROMETHEUS_MULTIPROC_DIR"}


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _get(path: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(BASE + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _wait_until_up(proc: subprocess.Popen, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}")
        try:
            _get("/healthz")
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the server did not answer in time")


def _fake_collectstatic(static_root) -> None:
    """A manifest naming every static file as itself, so that pages render.

    Real collectstatic hashes and compresses ~60 MB of vendor files (a minute or more
    on a busy machine); how hashed files are served is tested in core/tests/test_static.py.
    """
    from django.contrib.staticfiles import finders

    names = set()
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            prefix = getattr(storage, "prefix", None)
            names.add(f"{prefix}/{path}" if prefix else path)
    static_root.mkdir(parents=True, exist_ok=True)
    manifest = {"version": "1.1", "paths": {name: name for name in names}}
    (static_root / "staticfiles.json").write_text(json.dumps(manifest))


@pytest.fixture
def production_server(transactional_db, tmp_path):
    database_url = require_url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fl_prod")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("the production profile test needs DATABASE_URL on PostgreSQL")
    redis_url = require_url("REDIS_URL", "redis://127.0.0.1:6379/7")
    env = {k: v for k, v in os.environ.items() if k not in _STRIP and not k.startswith("PYTEST_")}
    env.update(
        FRONTLINE_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=BASE,
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=_database_url(),
        REDIS_URL=redis_url,
        FRONTLINE_VAR_DIR=str(tmp_path),
    )
    manage = [sys.executable, "-m", "frontline.cli"]
    _fake_collectstatic(tmp_path / "static")
    proc = subprocess.Popen(  # noqa: S603
        [*manage, "serve", "--host", "127.0.0.1", "--port", str(PORT), "--workers", "2"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_up(proc)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_health_a_page_the_api_and_metrics_over_two_workers(production_server):
    status, _, body = _get("/healthz")
    assert status == 200, body
    assert json.loads(body)["checks"]["database"]["vendor"] == "postgresql"

    for _ in range(6):
        status, headers, body = _get("/accounts/login/")
        assert status == 200
        assert headers["X-Request-ID"]
    assert b'href="/static/' in body
    status, _, body = _get("/api/v1/tickets/")
    assert status == 401
    assert json.loads(body)["code"]

    status, headers, body = _get("/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    logins = [
        s
        for s in families["frontline_http_requests"].samples
        if s.labels == {"route": "login", "method": "GET", "status": "2xx"}
    ]
    assert [s.value for s in logins] == [6.0]
    assert "frontline_queue_depth" in families

    assert _get("/metrics", **{"X-Forwarded-For": "203.0.113.9"})[0] == 404
