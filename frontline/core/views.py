"""Health check and the language switch."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST


def _check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return {"ok": False, "error": type(exc).__name__}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "ms": round((time.monotonic() - started) * 1000, 1),
    }


def _check_broker() -> dict:
    from frontline.celery import app

    started = time.monotonic()
    transport = app.conf.broker_url.split(":", 1)[0]
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "transport": transport, "error": type(exc).__name__}
    return {"ok": True, "transport": transport, "ms": round((time.monotonic() - started) * 1000, 1)}


@never_cache
@require_GET
def healthz(request):
    """200 when the database and the broker answer, 503 otherwise (no secrets in the body)."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503
    )


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; send them to the static icon."""
    # Resolved per request: under the manifest storage the URL exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("frontline/favicon.svg"))


@require_POST
def set_language(request):
    """Switch the interface language; saved on the user so it follows them to every device."""
    from frontline.accounts import services as account_services

    language = request.POST.get("language", "")
    valid = {code for code, _ in settings.LANGUAGES}
    next_url = request.POST.get("next") or request.headers.get("referer") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language in valid:
        if request.user.is_authenticated:
            account_services.update_preferences(
                actor=request.user, user=request.user, preferred_language=language
            )
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def not_found(request, exception=None):
    """404 for a URL that matches no route: under /api/ the API's JSON error body, like
    every other API error (a malformed id in a path is such a URL); elsewhere the page."""
    if request.path.startswith("/api/"):
        body = {"code": "not_found", "detail": str(_("Not found.")), "fields": {}}
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)
