"""The job outbox: a background job is a row first, a broker message second.

``jobs.enqueue`` writes an ``OutboxJob`` in the caller's transaction, so the job exists
exactly when the business change does; the message is published after commit, and
when the broker is down the row waits for the relay (``jobs.relay_pending``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # waiting to be published (or retried)
    SENT = "sent", _("Sent")  # handed to the broker, not yet run to the end
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")  # gave up after the last attempt


class OutboxJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Jobs are plumbing: operator staff who may read the audit trail see them."""
        if not getattr(user, "is_authenticated", False) or not user.has_capability("view_audit"):
            return self.none()
        return self


class OutboxJob(models.Model):
    """One background job: which task, with what arguments, and how far it got."""

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    # A business key makes enqueueing the same job twice a no-op (e.g. "plan:42").
    key = models.CharField(_("business key"), max_length=200, null=True, blank=True)
    # Run the task and mark the row done in one transaction: a crash mid-job rolls
    # its writes back and the redelivered message does them once.
    atomic = models.BooleanField(_("atomic"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("publish after"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    objects = OutboxJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(key__isnull=False), name="outboxjob_key"
            )
        ]
        indexes = [
            # The relay's scan: only the few unfinished rows are indexed.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="outboxjob_open",
                condition=models.Q(status__in=["pending", "sent"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk} ({self.status})"
