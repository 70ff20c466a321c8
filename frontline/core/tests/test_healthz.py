"""/healthz: 200 when the database and the broker answer, 503 when one does not."""

from __future__ import annotations

import pytest
from django.conf import settings

from frontline.core import views


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["vendor"] in {"sqlite", "postgresql"}
    # Tests use the in-memory broker unless REDIS_URL points at a real one.
    expected = "redis" if settings.REDIS_URL else "memory"
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["broker"]["transport"] == expected
    assert response["Cache-Control"].startswith("max-age=0")


class _BrokenCursor:
    def __enter__(self):
        raise ConnectionError("database is down")

    def __exit__(self, *exc):
        return False


class _BrokenConnection:
    vendor = "sqlite"

    def cursor(self):
        return _BrokenCursor()


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr(views, "connection", _BrokenConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == {"ok": False, "error": "ConnectionError"}
    # The error names the failure's type only: no message, host or credentials leak out.
    assert "database is down" not in response.content.decode()


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch):
    from frontline.celery import app

    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(app, "connection_for_write", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


@pytest.mark.django_db
def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
