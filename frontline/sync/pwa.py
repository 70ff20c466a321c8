"""The engineer's phone as an installable app that keeps working without a signal.

Three small documents make the mobile pages (``/m/`` for jobs, ``/inspections/m/`` for
rounds) a PWA, without a second app:

- ``/sw.js``, the service worker (served from the root so that its scope covers both
  sets of pages): it keeps the static files the pages use, answers a page from the
  network when there is one and from its cache when there is none, and on request
  fetches the pages of today's work so they open offline;
- ``/manifest.webmanifest``, what the phone needs to install it (name, icons, start);
- ``/m/offline/``, the engineer's own list of pages to keep: today's jobs and open
  rounds (each page carries everything needed to do the work: checklist, site,
  checkpoints and items).

What the engineer does offline is queued on the phone (``sync/outbox.js``) and sent to
``POST /api/v1/sync/`` when the connection is back.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from frontline.field import access as field_access
from frontline.field.views_mobile import todays_jobs
from frontline.inspections import access as round_access
from frontline.inspections.views_mobile import my_team_ids, open_rounds

# Everything the mobile pages load, kept by the service worker when it installs.
ASSETS = (
    "vendor/bootstrap/css/bootstrap.min.css",
    "vendor/bootstrap/js/bootstrap.bundle.min.js",
    "vendor/bootstrap-icons/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff",
    "vendor/htmx/htmx.min.js",
    "vendor/jsqr/jsQR.js",
    "frontline/app.css",
    "frontline/app.js",
    "frontline/favicon.svg",
    "field/mobile.css",
    "field/mobile.js",
    "inspections/round.css",
    "inspections/round.js",
    "inspections/qr-scan.js",
    "sync/outbox.js",
    "sync/icons/icon-192.png",
    "sync/icons/icon-512.png",
)

# Pages the worker answers from its cache when offline (prefixes of their paths).
PAGE_PREFIXES = ("/m/", "/inspections/m/")


def asset_urls() -> list[str]:
    return [static(name) for name in ASSETS]


def cache_version(urls: list[str]) -> str:
    """Changes when any asset's URL changes (hashed names in production) or on a release,
    so a new worker replaces the old caches."""
    seed = "|".join([getattr(settings, "FRONTLINE_VERSION", ""), *urls])
    return hashlib.sha256(seed.encode()).hexdigest()[:12]


@require_GET
@never_cache
def service_worker(request):
    urls = asset_urls()
    config = {
        "version": cache_version(urls),
        "assets": urls,
        "static_prefix": settings.STATIC_URL,
        "page_prefixes": list(PAGE_PREFIXES),
        "offline_list": reverse("sync:offline-pages"),
        "start": reverse("field:mobile-today"),
    }
    body = render_to_string("sync/sw.js", {"config": json.dumps(config)})
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # The worker controls only what it is allowed to: the whole site, for the two page sets.
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def web_manifest(request):
    icons = [
        {"src": static("sync/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("sync/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {"src": static("sync/icons/icon-512.png"), "sizes": "512x512", "type": "image/png",
         "purpose": "maskable"},
    ]  # fmt: skip
    manifest = {
        "name": _("Frontline for engineers"),
        "short_name": "Frontline",
        "description": _("Today's jobs and rounds, also without a signal."),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("field:mobile-today"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#212529",
        "icons": icons,
        "shortcuts": [
            {"name": _("Today's jobs"), "url": reverse("field:mobile-today")},
            {"name": _("My rounds"), "url": reverse("inspections:mobile-rounds")},
        ],
    }
    return HttpResponse(
        json.dumps(manifest, ensure_ascii=False),
        content_type="application/manifest+json; charset=utf-8",
    )


def offline_pages(user) -> list[str]:
    """The pages of the engineer's day: the lists, each of today's jobs, each open round."""
    pages: list[str] = []
    if field_access.may_do_field_work(user):
        pages.append(reverse("field:mobile-today"))
        pages += [reverse("field:mobile-job", args=[job.pk]) for job in todays_jobs(user)]
    if round_access.may_do_rounds(user):
        pages.append(reverse("inspections:mobile-rounds"))
        rounds = open_rounds(user, my_team_ids(user))
        pages += [reverse("inspections:mobile-round", args=[r.pk]) for r in rounds]
    return pages


@require_GET
@never_cache
def offline_list(request):
    """What the worker should keep for this engineer; 404 for anyone else (no field work)."""
    user = request.user
    if not user.is_authenticated:
        raise Http404
    pages = offline_pages(user)
    if not pages:
        raise Http404
    return JsonResponse({"user": user.pk, "pages": pages, "assets": asset_urls()})


app_name = "sync"

urlpatterns = [
    path("sw.js", service_worker, name="service-worker"),
    path("manifest.webmanifest", web_manifest, name="web-manifest"),
    path("m/offline/", offline_list, name="offline-pages"),
]
