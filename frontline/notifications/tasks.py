"""Background jobs for notifications: send one email or many, and the every-minute outbox sweep."""

from __future__ import annotations

from celery import shared_task

from frontline.notifications import outbox


@shared_task(name="frontline.notifications.tasks.send_email")
def send_email(email_id: int) -> str:
    """Send one queued email; a second delivery of the same task sends nothing."""
    return outbox.deliver(email_id)


@shared_task(name="frontline.notifications.tasks.send_pending_emails")
def send_pending_emails() -> dict[str, int]:
    """Send what is due: retries after backoff and messages whose first task was lost."""
    return outbox.send_pending()


@shared_task(name="frontline.notifications.tasks.send_emails")
def send_emails(email_ids: list[int]) -> dict[str, int]:
    """Send many queued emails (handed over by ``notify_many``); each one at most once."""
    return outbox.deliver_each(email_ids)
