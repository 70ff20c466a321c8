"""Background jobs of the sync app."""

from celery import shared_task

from frontline.sync.uploads import remove_stale


@shared_task(name="frontline.sync.tasks.remove_stale_uploads")
def remove_stale_uploads() -> int:
    """Uploads left open past ``uploads.STALE_AFTER``: ended, bytes removed (daily is enough)."""
    return remove_stale()
