"""Every URL pattern of the project, as the security matrix sees it.

``all_routes()`` walks ``django.urls.get_resolver()``: each pattern becomes a ``Route``
with its name (``namespace:name``), the HTTP methods its view answers and the kind of
object each path parameter names (see ``PARAM_KINDS``). Only the patterns in ``SKIPPED``
are left out, each with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Left out of the matrix on purpose, by URL prefix (and why).
SKIPPED_PREFIXES = {
    "admin/": "Django admin: staff-only by Django's own is_staff check, tested in accounts/tests/test_admin.py",
    "static/": "static files, public by design",
    "media/": "media is never served by Django in production; attachments go through views",
}
# Left out by name (and why).
SKIPPED_NAMES = {
    "api-v1:schema": "the OpenAPI schema: public documentation, no data (tests/test_api_docs.py)",
    "api-v1:docs": "Swagger UI page for the schema above, no data",
    "set-language": "i18n: sets a cookie only, for everyone",
    "favicon.ico": "a static icon",
    "healthz": "liveness probe, answers everyone without data (core/tests/test_healthz.py)",
}

UNSAFE = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    params: tuple[str, ...]
    methods: tuple[str, ...]
    is_api: bool

    def path(self, values: dict) -> str:
        return reverse(self.name, kwargs={p: values[p] for p in self.params})


def _walk(resolver, prefix="", namespace=""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield prefix + str(p.pattern), name, p


def _methods(pattern: URLPattern) -> tuple[str, ...]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route
        return tuple(m for m in ("get", *UNSAFE) if m in actions)
    cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if cls is not None:
        allowed = getattr(cls, "http_method_names", ())
        return tuple(m for m in ("get", *UNSAFE) if m in allowed and hasattr(cls, m))
    # A function view: whatever it answers, GET and POST are what a client would try.
    return ("get", "post")


def _params(pattern: str) -> tuple[str, ...]:
    return tuple(re.findall(r"<(?:\w+:)?(\w+)>", pattern) + re.findall(r"\(\?P<(\w+)>", pattern))


def all_routes() -> tuple[list[Route], dict[str, str]]:
    """(routes in the matrix, {skipped name or pattern: reason})."""
    routes: dict[str, Route] = {}
    skipped: dict[str, str] = {}
    for pattern, name, p in _walk(get_resolver()):
        key = name or pattern
        reason = SKIPPED_NAMES.get(key) or next(
            (why for prefix, why in SKIPPED_PREFIXES.items() if pattern.startswith(prefix)), None
        )
        if reason:
            skipped[key] = reason
            continue
        if key in routes:
            # The same name twice (login, password_reset overridden before django.contrib.auth.urls):
            # reverse() finds the first, and so do requests.
            continue
        routes[key] = Route(
            name=key,
            pattern=pattern,
            params=_params(pattern),
            methods=_methods(p),
            is_api=pattern.startswith("api/"),
        )
    return sorted(routes.values(), key=lambda r: r.name), skipped
