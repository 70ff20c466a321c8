"""Cross-cutting HTTP middleware: request ids, the request log and metrics, the CSP."""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django.utils.functional import SimpleLazyObject, empty
from django.utils.translation import gettext as _

from frontline.core import metrics
from frontline.core.logging import request_id_var

request_log = logging.getLogger("frontline.request")
# URL arguments whose values are secrets (password-reset links, public tokens): the
# logged path shows them as [redacted].
_SECRET_KWARGS = ("token", "secret", "key", "uid", "password")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Tag each request with an id (echoed in ``X-Request-ID`` and in logs).

    An incoming id is kept only when it looks like an id, so a client cannot
    inject text into our logs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Kept until the response is closed (request_finished below), so that Django's
        # own "Not Found" / "Internal Server Error" lines, written after the middleware
        # returns, carry the id too.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished, dispatch_uid="frontline.core.middleware.forget_request_id")
def _forget_request_id(**kwargs):
    request_id_var.set("-")


def _user_id(request):
    """The signed-in user's id, without loading a session nobody looked at."""
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


def _loggable_path(request) -> str:
    """The path without its query string, secret URL arguments redacted."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    for name, value in match.kwargs.items() if match else ():
        if any(word in name.lower() for word in _SECRET_KWARGS) and str(value):
            path = path.replace(str(value), "[redacted]")
    return path


class RequestLogMiddleware:
    """One log line and one latency observation per request (see core/metrics.py).

    The line has the method, the path (never the query string, which may carry a
    token), the route name, the status, the duration and the user's id; never
    headers. Probes and scrapes (/healthz, /metrics) are logged at DEBUG and not timed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = metrics.route_name(request)
        untimed = route in metrics.UNTIMED_ROUTES
        if not untimed:
            metrics.observe_request(
                route=route, method=request.method, status=response.status_code, seconds=seconds
            )
        duration_ms = round(seconds * 1000, 1)
        path = _loggable_path(request)
        request_log.log(
            logging.DEBUG if untimed else logging.INFO,
            "%s %s %s %.1f ms",
            request.method,
            path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": path,
                "route": route,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
            },
        )
        return response


def _tile_origin() -> str:
    url = getattr(settings, "MAP_TILE_URL", "")
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in url else parts.netloc
    return f"{parts.scheme}://{host}" if parts.scheme and host else ""


class ContentSecurityPolicyMiddleware:
    """A CSP that forbids inline script everywhere: user data can never run as code."""

    def __init__(self, get_response):
        self.get_response = get_response
        img = " ".join(filter(None, ["'self'", "data:", "blob:", _tile_origin()]))
        self.policy = (
            "default-src 'self'; "
            "script-src 'self'; "
            "style-src 'self'; "
            f"img-src {img}; "
            "font-src 'self' data:; "
            "connect-src 'self'; "
            "object-src 'none'; "
            "base-uri 'none'; "
            "form-action 'self'; "
            "frame-ancestors 'none'"
        )

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class RequestSizeLimitMiddleware:
    """Refuse a body larger than MAX_REQUEST_BYTES with 413 before anything reads it.

    Runs before sessions and CSRF, which would otherwise parse a whole multipart body
    (spooling it to disk) only for the view to refuse it afterwards.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            length = -1
        limit = settings.MAX_REQUEST_BYTES
        if length < 0 or length > limit:
            message = (
                _("The request body is too large (at most %(mb)d MB).")
                % {"mb": limit // (1024 * 1024)}
                if length > limit
                else _("The Content-Length header is not a number.")
            )
            status = 413 if length > limit else 400
            if request.path.startswith("/api/"):
                code = "too_large" if status == 413 else "invalid"
                return JsonResponse(
                    {"code": code, "detail": str(message), "fields": {}}, status=status
                )
            return HttpResponse(
                str(message), status=status, content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
