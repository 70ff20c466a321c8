"""Notifications. INTERFACE FOR THE PARALLEL BUILD — the notifications engineer replaces this.

notify(*, recipients, kind, title, body="", url="", dedupe_key, email=True) -> int
    One in-app Notification per recipient (unique on recipient + dedupe_key, so a retry
    is a no-op) and, when ``email``, one OutboundEmail per recipient with an address
    (unique dedupe_key), sent after commit by a task and retried with backoff.
    Returns how many notifications were created.
"""

from __future__ import annotations


def notify(*, recipients, kind, title, body="", url="", dedupe_key, email=True) -> int:
    return 0
