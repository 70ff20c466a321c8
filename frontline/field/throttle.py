"""A per-address request cap for the public pages (timeline and survey links).

Counters live in the cache (Redis in production, shared by every process), one fixed
window per minute; over the cap the page answers 429 with ``Retry-After``. Unknown
tokens count like good ones, so guessing is throttled as well as flooding.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

WINDOW_SECONDS = 60


def public_rate() -> int:
    """Requests per minute per client address (polling the timeline uses 1 a minute)."""
    return int(getattr(settings, "FIELD_PUBLIC_RATE_PER_MINUTE", 30))


def retry_after(request, scope: str, *, limit: int | None = None) -> int | None:
    """Count this request; the seconds to wait when the address is over ``limit``, else None.

    Only ``REMOTE_ADDR``: forwarded headers are the proxy configuration's business.
    """
    limit = public_rate() if limit is None else limit
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    now = time.time()
    key = f"field-throttle:{scope}:{address}:{int(now // WINDOW_SECONDS)}"
    cache.add(key, 0, WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS + 5)
        count = 1
    if count <= limit:
        return None
    return max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS))


def too_many_requests(request, seconds: int):
    response = render(request, "field/public/throttled.html", {"seconds": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response
