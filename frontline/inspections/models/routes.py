"""Routes, their checkpoints and check items, schedules, SOPs and quality schemes."""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Team, User
from frontline.field.states import Priority, WorkOrderType
from frontline.inspections.models.scoping import is_inspection_staff, scope_inspections
from frontline.inspections.states import (
    AnomalyAction,
    Comparator,
    ItemKind,
    KpiKind,
    KpiMetric,
    ScheduleKind,
)
from frontline.sites.models import Asset, Project, Site

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$",
    _("Use letters, digits, '-', '_' or '.', starting with a letter or digit (at most 40)."),
)


def new_qr_value() -> str:
    """A random, unguessable QR payload (about 72 bits) printed on the checkpoint's tag."""
    return "FLQR-" + secrets.token_hex(9).upper()


class StaffOnlyQuerySet(models.QuerySet):
    """Configuration that only operator staff see (schemes, SOP documents)."""

    def visible_to(self, user):
        return self if is_inspection_staff(user) else self.none()


class QualityScheme(models.Model):
    """How a round's quality score is weighed. Routes without one use the defaults here."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    coverage_weight = models.PositiveSmallIntegerField(_("coverage weight"), default=40)
    timeliness_weight = models.PositiveSmallIntegerField(_("on-time weight"), default=20)
    anomalies_weight = models.PositiveSmallIntegerField(_("anomaly handling weight"), default=15)
    pace_weight = models.PositiveSmallIntegerField(_("plausible pace weight"), default=15)
    photos_weight = models.PositiveSmallIntegerField(_("photo evidence weight"), default=10)
    min_seconds_per_point = models.PositiveIntegerField(
        _("minimum seconds per checkpoint"),
        default=30,
        help_text=_("Checkpoints recorded faster than this after the previous one look unwalked."),
    )
    standard = models.PositiveSmallIntegerField(
        _("standard line"), default=80, validators=[MaxValueValidator(100)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("quality scheme")
        verbose_name_plural = _("quality schemes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def total_weight(self) -> int:
        return (
            self.coverage_weight
            + self.timeliness_weight
            + self.anomalies_weight
            + self.pace_weight
            + self.photos_weight
        )


class Sop(models.Model):
    """A standard operating procedure; its text and KPIs live in numbered versions."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    title = models.CharField(_("title"), max_length=200)
    work_order_type = models.CharField(
        _("work-order type"),
        max_length=24,
        choices=WorkOrderType.choices,
        blank=True,
        help_text=_("Leave empty for an inspection SOP attached to routes."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("SOP")
        verbose_name_plural = _("SOPs")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class SopVersion(models.Model):
    """One published version of an SOP. Versions are never edited once routes use them;
    a change is a new version."""

    sop = models.ForeignKey(Sop, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("procedure"), blank=True, help_text=_("Sanitised HTML."))
    effective_from = models.DateField(_("effective from"))
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("SOP version")
        verbose_name_plural = _("SOP versions")
        ordering = ["sop", "-number"]
        constraints = [models.UniqueConstraint(fields=["sop", "number"], name="sop_version_unique")]

    def __str__(self) -> str:
        return f"{self.sop.code} v{self.number}"


class SopKpi(models.Model):
    """A target an SOP version sets: a result KPI (quality ≥ 80) or a process KPI
    (duration_cv ≤ 0.30), compared with the actuals on the analysis page."""

    version = models.ForeignKey(SopVersion, on_delete=models.CASCADE, related_name="kpis")
    kind = models.CharField(_("kind"), max_length=10, choices=KpiKind.choices)
    metric = models.CharField(_("metric"), max_length=32, choices=KpiMetric.choices)
    comparator = models.CharField(_("comparator"), max_length=3, choices=Comparator.choices)
    target = models.DecimalField(_("target"), max_digits=10, decimal_places=4)
    position = models.PositiveSmallIntegerField(default=0)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("SOP KPI")
        verbose_name_plural = _("SOP KPIs")
        ordering = ["version", "position", "id"]

    def __str__(self) -> str:
        return f"{self.metric} {self.comparator} {self.target}"


class RouteQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_inspections(self, user, "project__customer")


class Route(models.Model):
    """An inspection round's path through one site: ordered checkpoints, a schedule,
    the SOP it follows and what an anomaly found on it opens."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="routes", verbose_name=_("project")
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="routes", verbose_name=_("site")
    )
    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    expected_minutes = models.PositiveIntegerField(
        _("expected duration (minutes)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
    )
    sop_version = models.ForeignKey(
        SopVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routes",
        verbose_name=_("active SOP version"),
    )
    quality_scheme = models.ForeignKey(
        QualityScheme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routes",
        verbose_name=_("quality scheme"),
    )
    anomaly_action = models.CharField(
        _("an anomaly opens"),
        max_length=12,
        choices=AnomalyAction.choices,
        default=AnomalyAction.WORK_ORDER,
    )
    anomaly_priority = models.CharField(
        _("at priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    anomaly_team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for team"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RouteQuerySet.as_manager()

    class Meta:
        verbose_name = _("route")
        verbose_name_plural = _("routes")
        ordering = ["project", "code"]
        constraints = [
            models.UniqueConstraint(fields=["project", "code"], name="route_code_per_project")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("inspections:route-detail", args=[self.pk])


class CheckpointQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_inspections(self, user, "route__project__customer")


class Checkpoint(models.Model):
    """A place on a route, usually one asset, with the QR tag the engineer scans."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="checkpoints")
    position = models.PositiveIntegerField(_("order"), default=0)
    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    location = models.CharField(_("location"), max_length=200, blank=True)
    asset = models.ForeignKey(
        Asset,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checkpoints",
        verbose_name=_("asset"),
    )
    qr_value = models.CharField(_("QR code"), max_length=64, unique=True, default=new_qr_value)
    is_active = models.BooleanField(_("active"), default=True)

    objects = CheckpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["route", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["route", "code"], name="checkpoint_code_per_route")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CheckItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_inspections(self, user, "checkpoint__route__project__customer")


class CheckItem(models.Model):
    """One thing to record at a checkpoint: a reading with its normal range, a yes/no
    check, a choice, a note or a photo."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    normal_min = models.DecimalField(
        _("normal minimum"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    normal_max = models.DecimalField(
        _("normal maximum"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    choices = models.JSONField(_("choices"), default=list, blank=True)
    abnormal_choices = models.JSONField(_("abnormal choices"), default=list, blank=True)
    normal_answer = models.BooleanField(
        _("normal answer"),
        default=True,
        help_text=_("For a yes/no check: the answer that means all is well."),
    )
    anomaly_when_abnormal = models.BooleanField(_("abnormal value raises an anomaly"), default=True)
    photo_required = models.BooleanField(_("photo required"), default=False)
    required = models.BooleanField(_("required"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = CheckItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("check item")
        verbose_name_plural = _("check items")
        ordering = ["checkpoint", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "name"], name="check_item_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ScheduleQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_inspections(self, user, "route__project__customer")


class Schedule(models.Model):
    """When a route's rounds happen and who does them. The generator creates rounds
    ahead from here; ``generated_until`` is how far it has got."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="schedules")
    kind = models.CharField(_("repeats"), max_length=16, choices=ScheduleKind.choices)
    times = models.JSONField(
        _("start times"),
        default=list,
        blank=True,
        help_text=_("Local times such as 08:00; for every shift, the shift start times."),
    )
    weekdays = models.JSONField(
        _("weekdays"), default=list, blank=True, help_text=_("0 = Monday … 6 = Sunday.")
    )
    every_hours = models.PositiveSmallIntegerField(
        _("every N hours"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
    )
    window_minutes = models.PositiveIntegerField(
        _("time window (minutes)"),
        default=120,
        validators=[MinValueValidator(5), MaxValueValidator(7 * 24 * 60)],
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
    )
    engineer = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("engineer"),
    )
    offer_for_grab = models.BooleanField(
        _("offer for grab"),
        default=False,
        help_text=_("Rounds are offered to the team's engineers; the first to claim does it."),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    generated_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScheduleQuerySet.as_manager()

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["route", "id"]
        indexes = [models.Index(fields=["is_active", "generated_until"], name="schedule_gen_idx")]

    def __str__(self) -> str:
        return f"{self.route.code} · {self.get_kind_display()}"
