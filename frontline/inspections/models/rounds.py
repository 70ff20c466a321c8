"""Rounds, their point visits and readings, and the anomalies they raise."""

from __future__ import annotations

import uuid

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Organization, Team, User
from frontline.field.states import Priority
from frontline.inspections.models.routes import CheckItem, Checkpoint, Route, Schedule
from frontline.inspections.models.scoping import scope_inspections
from frontline.inspections.states import (
    AnomalySource,
    AnomalyStatus,
    RoundStatus,
    SkipReason,
    VisitStatus,
)
from frontline.sites.models import Project


class RoundQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_inspections(self, user, "customer")


class Round(models.Model):
    """One walk of a route in a time window. ``project`` and ``customer`` are copied
    from the route so that scoping and the daily analysis read one table."""

    route = models.ForeignKey(
        Route, on_delete=models.PROTECT, related_name="rounds", verbose_name=_("route")
    )
    schedule = models.ForeignKey(
        Schedule, on_delete=models.SET_NULL, null=True, blank=True, related_name="rounds"
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_index=False)
    customer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    status = models.CharField(
        _("status"), max_length=12, choices=RoundStatus.choices, default=RoundStatus.SCHEDULED
    )
    window_start = models.DateTimeField(_("window opens"))
    window_end = models.DateTimeField(_("window closes"))
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assignee = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inspection_rounds",
        verbose_name=_("engineer"),
        db_index=False,
    )
    offered = models.BooleanField(
        _("offered for grab"), default=False, help_text=_("Waiting for an engineer to claim it.")
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    points_planned = models.PositiveIntegerField(_("checkpoints planned"), default=0)
    points_visited = models.PositiveIntegerField(_("checkpoints visited"), default=0)
    points_skipped = models.PositiveIntegerField(_("checkpoints skipped"), default=0)
    quality_computed = models.DecimalField(
        _("computed quality"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    quality_score = models.DecimalField(
        _("quality score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    quality_parts = models.JSONField(_("quality parts"), default=dict, blank=True)
    quality_adjusted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    quality_adjusted_at = models.DateTimeField(null=True, blank=True)
    quality_adjust_reason = models.TextField(_("reason for the adjustment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["-window_start", "-id"]
        constraints = [
            # Generation is idempotent: one round per schedule and window start.
            models.UniqueConstraint(
                fields=["schedule", "window_start"],
                condition=models.Q(schedule__isnull=False),
                name="round_once_per_schedule_slot",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "window_start"], name="round_project_window_idx"),
            models.Index(fields=["route", "window_start"], name="round_route_window_idx"),
            models.Index(fields=["window_start"], name="round_window_idx"),
            # The missed-round sweep reads open rounds whose window has closed.
            models.Index(
                fields=["window_end"],
                condition=models.Q(status__in=["scheduled", "in_progress"]),
                name="round_open_sweep_idx",
            ),
            models.Index(fields=["assignee", "status", "window_start"], name="round_assignee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.route.code} {self.window_start:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("inspections:round-detail", args=[self.pk])


class PointVisitQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_inspections(self, user, "round__customer")


class PointVisit(models.Model):
    """The engineer at one checkpoint during a round, with the device's own timestamps.
    ``client_id`` makes a retried submission a no-op."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="visits")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="visits")
    client_id = models.UUIDField(_("client id"), unique=True, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.VISITED
    )
    skip_reason = models.CharField(
        _("reason for skipping"), max_length=20, choices=SkipReason.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    scanned = models.BooleanField(_("QR scanned"), default=False)
    started_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")

    objects = PointVisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("checkpoint visit")
        verbose_name_plural = _("checkpoint visits")
        ordering = ["round", "recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "checkpoint"], name="visit_once_per_round")
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.checkpoint.code}"


def reading_photo_path(instance, filename: str) -> str:
    # The stored name is generated; the uploaded name never reaches the file system.
    return f"inspections/photos/{uuid.uuid4().hex}"


class ReadingQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_inspections(self, user, "visit__round__customer")


class Reading(models.Model):
    """One item's value at a visit. Exactly one of the value columns is used, by kind."""

    visit = models.ForeignKey(PointVisit, on_delete=models.CASCADE, related_name="readings")
    item = models.ForeignKey(CheckItem, on_delete=models.PROTECT, related_name="+")
    number = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    answer = models.BooleanField(null=True, blank=True)
    text = models.CharField(max_length=500, blank=True)
    photo = models.FileField(upload_to=reading_photo_path, blank=True, max_length=200)
    photo_pending = models.BooleanField(
        _("photo to follow"),
        default=False,
        help_text=_("Synced from offline without its photo, which uploads afterwards."),
    )
    is_abnormal = models.BooleanField(_("abnormal"), default=False)

    objects = ReadingQuerySet.as_manager()

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        ordering = ["visit", "item__position"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "item"], name="reading_once_per_visit")
        ]

    def __str__(self) -> str:
        return f"{self.item_id}={self.display_value}"

    @property
    def display_value(self) -> str:
        if self.number is not None:
            return format(self.number.normalize(), "f")
        if self.answer is not None:
            return str(_("Yes") if self.answer else _("No"))
        return self.text


class AnomalyQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_inspections(self, user, "customer")


class Anomaly(models.Model):
    """Something found wrong on a round. One unhandled anomaly per checkpoint and item:
    seeing it again adds an occurrence instead of a duplicate."""

    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="anomalies")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="anomalies", db_index=False
    )
    item = models.ForeignKey(
        CheckItem, on_delete=models.PROTECT, null=True, blank=True, related_name="anomalies"
    )
    round = models.ForeignKey(
        Round, on_delete=models.SET_NULL, null=True, blank=True, related_name="anomalies"
    )
    visit = models.ForeignKey(
        PointVisit, on_delete=models.SET_NULL, null=True, blank=True, related_name="anomalies"
    )
    source = models.CharField(_("source"), max_length=16, choices=AnomalySource.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=AnomalyStatus.choices, default=AnomalyStatus.OPEN
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    description = models.TextField(_("description"), blank=True)
    value = models.CharField(_("value found"), max_length=500, blank=True)
    occurrences = models.PositiveIntegerField(_("times seen"), default=1)
    raised_at = models.DateTimeField(_("raised"))
    last_seen_at = models.DateTimeField(_("last seen"))
    raised_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(_("resolution"), blank=True)
    work_order = models.ForeignKey(
        "field.WorkOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="anomalies",
        verbose_name=_("work order"),
    )
    ticket = models.ForeignKey(
        "desk.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="anomalies",
        verbose_name=_("ticket"),
    )

    objects = AnomalyQuerySet.as_manager()

    class Meta:
        verbose_name = _("anomaly")
        verbose_name_plural = _("anomalies")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "item"],
                condition=models.Q(status__in=["open", "confirmed"]),
                name="anomaly_one_unhandled",
            )
        ]
        indexes = [
            models.Index(fields=["checkpoint", "status"], name="anomaly_checkpoint_idx"),
            models.Index(fields=["project", "raised_at"], name="anomaly_project_idx"),
            models.Index(fields=["status", "raised_at"], name="anomaly_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint.code}: {self.get_source_display()}"

    def get_absolute_url(self) -> str:
        return reverse("inspections:anomaly-detail", args=[self.pk])

    @property
    def is_handled(self) -> bool:
        return self.status == AnomalyStatus.HANDLED
