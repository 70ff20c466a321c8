"""Template helpers for accounts templates."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def site_url() -> str:
    """The configured public address (links in emails never come from the request's Host)."""
    return settings.SITE_URL
