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
from frontline.sync.states import (
    STORED_STATUSES,
    SyncKind,
    SyncStatus,
    TargetType,
    UploadPurpose,
    UploadStatus,
)

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


class SyncUploadQuerySet(SyncActionQuerySet):
    """As synced actions: field leads see every engineer's uploads, an engineer their own."""


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


class SyncUpload(models.Model):
    """A photo uploading in chunks after the phone's data synced (``frontline.sync.uploads``).

    ``(user, client_id)`` is unique: the phone resumes an upload by its id from ``offset``.
    The bytes wait under ``MEDIA_ROOT/sync-uploads/<key>`` (a generated key, never the
    phone's file name) until the last one is in; then the checksum and the content type
    are checked and the photo is attached through the field or rounds service.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("engineer"),
        db_index=False,  # the unique (user, client_id) constraint leads with user
    )
    client_id = models.UUIDField(_("client id"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=UploadPurpose.choices)
    target = models.JSONField(_("target"), default=dict)
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("declared type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    offset = models.PositiveIntegerField(_("bytes received"), default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=UploadStatus.choices, default=UploadStatus.OPEN
    )
    result = models.JSONField(_("result"), default=dict, blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    key = models.CharField(_("storage key"), max_length=64, unique=True)
    device_at = models.DateTimeField(_("taken on the device at"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SyncUploadQuerySet.as_manager()

    class Meta:
        verbose_name = _("photo upload")
        verbose_name_plural = _("photo uploads")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "client_id"], name="sync_upload_client_id"),
        ]
        indexes = [
            models.Index(fields=["client_id"], name="sync_upload_client_idx"),
            models.Index(fields=["status", "updated_at"], name="sync_upload_stale_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.client_id} ({self.status})"
