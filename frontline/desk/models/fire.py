"""Calls for fire ("全员一杆枪"), who was summoned and joined, bug briefs and retrospectives."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import User
from frontline.desk.models.scoping import is_desk_staff
from frontline.desk.models.tickets import Ticket
from frontline.desk.states import Severity


class StaffOnlyQuerySet(models.QuerySet):
    def visible_to(self, user):
        # Fire calls, briefs and retrospectives are internal: the whole operator company sees
        # them, customers never do.
        return self if is_desk_staff(user) else self.none()


class FireCall(models.Model):
    """Someone on the front line pulled the whole company into one ticket's room."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="fire_calls")
    level = models.CharField(_("level"), max_length=2, choices=Severity.choices)
    message = models.TextField(_("message"))
    called_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("called by")
    )
    created_at = models.DateTimeField(_("called"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("fire call")
        verbose_name_plural = _("fire calls")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(closed_at__isnull=True),
                name="fire_call_one_open",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(closed_at__isnull=True),
                name="fire_call_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.level}"


class FireSummons(models.Model):
    """One person summoned by (or who joined) a fire call."""

    fire_call = models.ForeignKey(FireCall, on_delete=models.CASCADE, related_name="summons")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="fire_summons")
    summoned = models.BooleanField(_("summoned"), default=True)
    joined_at = models.DateTimeField(_("joined"), null=True, blank=True)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("fire summons")
        verbose_name_plural = _("fire summons")
        constraints = [
            models.UniqueConstraint(fields=["fire_call", "user"], name="fire_summons_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.fire_call}"


class BugBrief(models.Model):
    """Required to resolve a ticket that had a fire call."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="brief")
    symptom = models.TextField(_("symptom"))
    impact = models.TextField(_("impact"))
    scope = models.TextField(_("scope"))
    workaround = models.TextField(_("workaround"), blank=True)
    root_cause = models.TextField(_("root cause"))
    fix = models.TextField(_("fix"))
    prevention = models.TextField(_("prevention"))
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("bug brief")
        verbose_name_plural = _("bug briefs")

    def __str__(self) -> str:
        return f"{self.ticket.number} brief"


class Attribution(models.TextChoices):
    PRODUCT_DESIGN = "product_design", _("Product design")
    IMPLEMENTATION = "implementation", _("Implementation")
    DELIVERY = "delivery", _("Delivery")
    OPERATIONS = "operations", _("Operations process")
    CUSTOMER_ENVIRONMENT = "customer_environment", _("Customer environment")
    THIRD_PARTY = "third_party", _("Third party")


class Retrospective(models.Model):
    """回溯报告: required to close an S1 or S2 ticket."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="retrospective")
    summary = models.TextField(_("summary"))
    timeline = models.JSONField(
        _("timeline"), default=list, help_text=_("Pre-filled from the ticket's events.")
    )
    attribution = models.CharField(_("attribution"), max_length=24, choices=Attribution.choices)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("retrospective")
        verbose_name_plural = _("retrospectives")

    def __str__(self) -> str:
        return f"{self.ticket.number} retrospective"


class RetrospectiveAction(models.Model):
    retrospective = models.ForeignKey(
        Retrospective, on_delete=models.CASCADE, related_name="actions"
    )
    description = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_on = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    objects = StaffOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("retrospective action")
        verbose_name_plural = _("retrospective actions")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.description
