"""Plan runs: one optimiser job over a day's queue, its progress and its proposed routes."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Team, User
from frontline.field.models import WorkOrder
from frontline.field.models.scoping import is_field_staff


class PlanStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready for review")
    FAILED = "failed", _("Failed")
    APPLIED = "applied", _("Applied")
    PARTLY_APPLIED = "partly_applied", _("Partly applied")


class PlanRunQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_field_staff(user) else self.none()


class PlanRun(models.Model):
    """The optimiser's plan for one day (and team): assignments, sequences, ETAs and KPIs.

    ``problem`` is the exact input handed to the optimiser (so a run can be replayed);
    ``kpis`` are travel km, lateness, utilisation and how many orders were left out.
    """

    day = models.DateField(_("day"))
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_runs",
        verbose_name=_("team"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.QUEUED
    )
    time_limit_s = models.PositiveIntegerField(_("time limit (s)"), default=30)
    auto_apply = models.BooleanField(_("apply when done"), default=False)
    progress = models.FloatField(_("progress"), default=0.0)
    message = models.CharField(_("message"), max_length=300, blank=True)
    problem = models.JSONField(default=dict, blank=True)
    kpis = models.JSONField(default=dict, blank=True)
    left_out = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PlanRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan run")
        verbose_name_plural = _("plan runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PlanStatus.values), name="plan_run_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("dispatch:plan-detail", args=[self.pk])


class PlanAssignmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_field_staff(user) else self.none()


class PlanAssignment(models.Model):
    """One work order placed in one engineer's route by a plan run."""

    plan = models.ForeignKey(PlanRun, on_delete=models.CASCADE, related_name="assignments")
    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="+")
    engineer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveSmallIntegerField()
    arrival = models.DateTimeField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    travel_km = models.FloatField(default=0.0)
    applied = models.BooleanField(default=False)

    objects = PlanAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("planned visit")
        verbose_name_plural = _("planned visits")
        ordering = ["engineer_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "work_order"], name="plan_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.work_order_id} → {self.engineer_id} #{self.sequence}"
