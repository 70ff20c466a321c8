"""The unread count for the inbox bell in the page header."""

from __future__ import annotations

from functools import cache

from frontline.notifications.services import unread_count as count_unread


def inbox(request):
    """``unread_count``: one COUNT query, run only if a template shows it (signed-in users only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_count": 0}

    # Templates call callables; cached so a page that shows it twice still asks once.
    @cache
    def unread_count() -> int:
        return count_unread(user)

    return {"unread_count": unread_count}
