"""Problems (归因归母): one root cause behind many tickets."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import User
from frontline.desk.models.fire import Attribution
from frontline.desk.models.scoping import is_desk_staff


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    INVESTIGATING = "investigating", _("Investigating")
    FIX_IN_PROGRESS = "fix_in_progress", _("Fix in progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


PROBLEM_TRANSITIONS: dict[str, frozenset[str]] = {
    ProblemStatus.OPEN: frozenset(
        {ProblemStatus.INVESTIGATING, ProblemStatus.FIX_IN_PROGRESS, ProblemStatus.RESOLVED}
    ),
    ProblemStatus.INVESTIGATING: frozenset({ProblemStatus.FIX_IN_PROGRESS, ProblemStatus.RESOLVED}),
    ProblemStatus.FIX_IN_PROGRESS: frozenset({ProblemStatus.INVESTIGATING, ProblemStatus.RESOLVED}),
    ProblemStatus.RESOLVED: frozenset({ProblemStatus.CLOSED, ProblemStatus.INVESTIGATING}),
    ProblemStatus.CLOSED: frozenset(),
}


class ProblemQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_desk_staff(user) else self.none()


class Problem(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    attribution = models.CharField(
        _("attribution"), max_length=24, choices=Attribution.choices, blank=True
    )
    fix_plan = models.TextField(_("systemic fix plan"), blank=True)
    fix_owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fix owner"),
    )
    fix_due_on = models.DateField(_("fix due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="problem_status_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("desk:problem-detail", args=[self.pk])
