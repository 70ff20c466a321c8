"""The in-app inbox and the outbox of email (sent after commit, retried, never duplicated)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import User


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One message in one person's inbox."""

    # Indexed by notification_dedupe and notification_inbox_idx, which lead with it.
    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # One business event notifies a person once (e.g. "fire:12:user:5"): retries are no-ops.
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="notification_dedupe")
        ]
        indexes = [
            models.Index(
                fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx"
            )
        ]

    def __str__(self) -> str:
        return self.title


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundEmailQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False) or not user.has_capability(
            "manage_organizations"
        ):
            return self.none()
        return self


class OutboundEmail(models.Model):
    """An email waiting to go out. Written in the business transaction; sent after commit."""

    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=250)
    body = models.TextField(_("text"))
    # Unique by a constraint in Meta (unique=True would add an unused LIKE index).
    dedupe_key = models.CharField(max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="outbound_email_dedupe")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="outbound_email_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"
