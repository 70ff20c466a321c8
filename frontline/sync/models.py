"""``SyncAction``: one row per action a phone's offline outbox sent and the server decided.

The row is the idempotency record: ``(user, client_id)`` is unique, so a retried action
finds the first decision and returns its ``result`` instead of acting again. It also
keeps both clocks: ``device_at`` (when the engineer did it, by the phone) and
``received_at`` (when the server got it), with the difference and a flag for a clock
that cannot be right (see ``frontline.sync.clock``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from frontline.field import access as field_access
from frontline.sync.states import STORED_STATUSES, SyncKind, SyncStatus, TargetType

DEVICE_ID_MAX = 64


class SyncActionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Field leads (dispatch or manage engineers) see every device's; an engineer their
        own; anyone else nothing."""
        if field_access.may_dispatch(user) or field_access.may_manage_engineers(user):
            return self
        if field_access.may_do_field_work(user):
            return self.filter(user_id=user.pk)
        return self.none()


class SyncAction(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("engineer"),
        db_index=False,  # the unique (user, client_id) constraint leads with user
    )
    device_id = models.CharField(_("device"), max_length=DEVICE_ID_MAX)
    client_id = models.UUIDField(_("client id"))
    kind = models.CharField(_("kind"), max_length=16, choices=SyncKind.choices)
    target_type = models.CharField(_("target type"), max_length=12, choices=TargetType.choices)
    target_id = models.BigIntegerField(_("target id"))
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    fingerprint = models.CharField(
        _("fingerprint"),
        max_length=64,
        help_text=_("SHA-256 of what was sent: a retry must send the same."),
    )
    device_at = models.DateTimeField(_("done on the device at"))
    received_at = models.DateTimeField(_("received at"))
    clock_skew_seconds = models.IntegerField(
        _("clock skew (s)"), help_text=_("Device time minus receipt time.")
    )
    clock_flagged = models.BooleanField(_("implausible clock"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=SyncStatus.choices)
    result = models.JSONField(_("result"), default=dict, blank=True)
    batch_position = models.PositiveIntegerField(_("position in batch"))

    objects = SyncActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("synced action")
        verbose_name_plural = _("synced actions")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "client_id"], name="sync_action_client_id"),
            models.CheckConstraint(
                condition=models.Q(status__in=sorted(STORED_STATUSES)),
                name="sync_action_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["client_id"], name="sync_action_client_idx"),
            models.Index(fields=["user", "device_id", "-id"], name="sync_action_device_idx"),
            models.Index(fields=["target_type", "target_id"], name="sync_action_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_type}:{self.target_id} ({self.status})"
