"""Desk configuration: fire levels per severity, business calendars, SLA policies, categories, tags."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Team, User, validate_time_zone
from frontline.accounts.roles import Role
from frontline.desk.models.scoping import is_desk_staff, staff_only
from frontline.desk.states import Severity, Tier
from frontline.sites.models import Project


class SeverityLevelQuerySet(models.QuerySet):
    def visible_to(self, user):
        # Names and descriptions of the levels are shown to customers in the portal too.
        return self if getattr(user, "is_authenticated", False) and user.is_active else self.none()


class SeverityLevel(models.Model):
    """What a severity means, and who is summoned when fire is called at it (S1 "导弹 / missile" …)."""

    severity = models.CharField(_("severity"), max_length=2, choices=Severity.choices, unique=True)
    name = models.CharField(_("name"), max_length=60)
    description = models.TextField(_("description"), blank=True)
    summon_roles = models.JSONField(
        _("summoned roles"),
        default=list,
        blank=True,
        help_text=_("Operator roles summoned by a fire call."),
    )
    summon_teams = models.ManyToManyField(
        Team, blank=True, related_name="+", verbose_name=_("summoned teams")
    )
    summon_users = models.ManyToManyField(
        User, blank=True, related_name="+", verbose_name=_("summoned people")
    )
    customer_may_choose = models.BooleanField(
        _("customers may choose it"),
        default=True,
        help_text=_("Whether the portal offers this severity."),
    )

    objects = SeverityLevelQuerySet.as_manager()

    class Meta:
        verbose_name = _("severity level")
        verbose_name_plural = _("severity levels")
        ordering = ["severity"]

    def __str__(self) -> str:
        return f"{self.severity} {self.name}"

    def clean(self):
        from django.core.exceptions import ValidationError

        operator_roles = {
            Role.ADMIN,
            Role.MANAGER,
            Role.DISPATCHER,
            Role.AGENT,
            Role.ENGINEER,
            Role.QUALITY_ANALYST,
        }
        bad = [r for r in self.summon_roles or [] if r not in operator_roles]
        if bad:
            raise ValidationError({"summon_roles": _("Only operator roles can be summoned.")})


class BusinessCalendarQuerySet(models.QuerySet):
    def visible_to(self, user):
        return staff_only(self, user)


class BusinessCalendar(models.Model):
    """When the SLA clock runs: working hours per weekday, or 24×7; Chinese holidays; closed days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    is_24x7 = models.BooleanField(_("24×7"), default=False)
    use_china_holidays = models.BooleanField(
        _("mainland China holidays"),
        default=True,
        help_text=_("Skip public holidays and work on make-up workdays (chinese-calendar)."),
    )

    objects = BusinessCalendarQuerySet.as_manager()

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CalendarPartQuerySet(models.QuerySet):
    def visible_to(self, user):
        return staff_only(self, user)


class WorkingPeriod(models.Model):
    """Working hours on one weekday (0 = Monday); several periods per day allowed (e.g. lunch break)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(_("weekday"), validators=[MaxValueValidator(6)])
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    objects = CalendarPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="working_period_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="working_period_weekday"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}–{self.end:%H:%M}"


class ClosedDay(models.Model):
    """A day the calendar does not work beyond the public holidays (company events, site shutdowns)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closed_days"
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = CalendarPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="closed_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.reason}"


class SlaPolicyQuerySet(models.QuerySet):
    def visible_to(self, user):
        return staff_only(self, user)


class SlaPolicy(models.Model):
    """The promise for one project and severity, in business minutes of a calendar."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="sla_policies", verbose_name=_("project")
    )
    severity = models.CharField(_("severity"), max_length=2, choices=Severity.choices)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="policies",
        verbose_name=_("calendar"),
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response (business minutes)"), validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (business minutes)"), validators=[MinValueValidator(1)]
    )
    warning_percent = models.PositiveSmallIntegerField(
        _("warning threshold (percent of the target)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    raise_tier_on_breach = models.CharField(
        _("raise to tier on breach"), max_length=8, choices=Tier.choices, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SlaPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["project", "severity"]
        constraints = [
            models.UniqueConstraint(fields=["project", "severity"], name="sla_policy_unique"),
            models.CheckConstraint(
                condition=models.Q(warning_percent__gte=1, warning_percent__lte=99),
                name="sla_policy_warning_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.severity}"


class CategoryQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if getattr(user, "is_authenticated", False) and user.is_active else self.none()


class Category(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TagQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_desk_staff(user) else self.none()


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
