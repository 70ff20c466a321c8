"""Background jobs for accounts."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from frontline.accounts.models import ApiToken


@shared_task(name="frontline.accounts.tasks.purge_expired_tokens")
def purge_expired_tokens() -> int:
    """Delete tokens that expired or were revoked more than 30 days ago (their audit entries stay)."""
    cutoff = timezone.now() - dt.timedelta(days=30)
    deleted, _ = ApiToken.objects.filter(expires_at__lt=cutoff).delete()
    revoked, _ = ApiToken.objects.filter(revoked_at__lt=cutoff).delete()
    return deleted + revoked
