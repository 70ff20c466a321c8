"""Engineers: profile, certifications, shifts, leave and position pings."""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Skill, User
from frontline.field.models.scoping import is_field_staff


def _people_scope(qs, user, path: str):
    """Staff see every engineer; a partner admin or engineer the outlet's own; else one's own."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if is_field_staff(user):
        return qs
    from frontline.accounts.roles import OrganizationKind

    org = user.organization
    if org is not None and org.kind == OrganizationKind.PARTNER and org.is_active:
        return qs.filter(**{f"{path}__membership__organization_id": org.pk})
    return qs.filter(**{path: user.pk})


class EngineerProfileQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _people_scope(self, user, "user")


class EngineerProfile(models.Model):
    """What dispatch needs to know about one engineer beyond their skills."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="engineer_profile", verbose_name=_("engineer")
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    home_latitude = models.DecimalField(
        _("home base latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    home_longitude = models.DecimalField(
        _("home base longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    # Regular working day, used when no shift is entered for a date.
    workday_start = models.TimeField(_("working day starts"), default=dt.time(8, 30))
    workday_end = models.TimeField(_("working day ends"), default=dt.time(17, 30))
    works_weekends = models.BooleanField(_("works weekends"), default=False)
    daily_capacity_minutes = models.PositiveIntegerField(
        _("daily capacity (minutes of work)"),
        default=420,
        validators=[MinValueValidator(30), MaxValueValidator(24 * 60)],
    )
    offer_radius_km = models.PositiveIntegerField(
        _("takes offers within (km)"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(2000)],
    )
    last_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    last_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    last_position_at = models.DateTimeField(_("last position"), null=True, blank=True)
    is_active = models.BooleanField(_("available for dispatch"), default=True)

    objects = EngineerProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("engineer profile")
        verbose_name_plural = _("engineer profiles")
        ordering = ["user__display_name", "user__email"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(workday_end__gt=models.F("workday_start")),
                name="engineer_workday_ordered",
            )
        ]

    def __str__(self) -> str:
        return str(self.user)


class CertificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _people_scope(self, user, "user")

    def valid_on(self, day: dt.date):
        return self.filter(models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=day))


class Certification(models.Model):
    """A certificate for a skill (e.g. 高压电工证); an expired one takes the skill away."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="certifications", verbose_name=_("engineer")
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="certifications", verbose_name=_("skill")
    )
    name = models.CharField(_("certificate"), max_length=120)
    number = models.CharField(_("certificate number"), max_length=60, blank=True)
    issued_on = models.DateField(_("issued"), null=True, blank=True)
    expires_on = models.DateField(_("expires"), null=True, blank=True)

    objects = CertificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["expires_on", "id"]
        indexes = [models.Index(fields=["user", "skill"], name="certification_user_skill_idx")]

    def __str__(self) -> str:
        return self.name


class ShiftQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _people_scope(self, user, "user")


class Shift(models.Model):
    """A working period on a date that replaces the regular working day."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("engineer")
    )
    date = models.DateField(_("date"))
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    objects = ShiftQuerySet.as_manager()

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["date", "start"]
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="shift_one_per_day"),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="shift_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.date} {self.start:%H:%M}–{self.end:%H:%M}"


class LeaveQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _people_scope(self, user, "user")


class Leave(models.Model):
    """Days an engineer is away (inclusive)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="leaves", verbose_name=_("engineer")
    )
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = LeaveQuerySet.as_manager()

    class Meta:
        verbose_name = _("leave")
        verbose_name_plural = _("leave")
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")), name="leave_ordered"
            )
        ]
        indexes = [models.Index(fields=["user", "first_day", "last_day"], name="leave_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.first_day}–{self.last_day}"


class PositionPingQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _people_scope(self, user, "user")


class PositionPing(models.Model):
    """Where an engineer's phone was. Append-only; a client id makes a retry a no-op."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="position_pings")
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    accuracy_m = models.PositiveIntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PositionPingQuerySet.as_manager()

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["user", "-recorded_at"], name="ping_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.recorded_at:%Y-%m-%d %H:%M}"
