"""Dispatch rules: ordered conditions → a target (team, partner outlet or engineers) and a mode."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Organization, Skill, Team, User
from frontline.desk.states import Channel
from frontline.field.models.scoping import is_field_staff
from frontline.field.states import Priority, RuleMode
from frontline.sites.models import AssetModel, Project, Site


class DispatchRuleQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if is_field_staff(user) else self.none()


class DispatchRule(models.Model):
    """The first active rule (by position) whose every set condition matches takes the order.

    Empty conditions match anything. ``channel`` is the channel of the ticket the work
    order came from (portal, phone, iot …).
    """

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("position"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    # Conditions
    customer = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("project"),
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    region = models.CharField(
        _("region (site city)"), max_length=100, blank=True, help_text=_("Matches the site's city.")
    )
    asset_model = models.ForeignKey(
        AssetModel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("asset model"),
    )
    skill = models.ForeignKey(
        Skill,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("required skill"),
    )
    channel = models.CharField(
        _("ticket channel"), max_length=10, choices=Channel.choices, blank=True
    )
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, blank=True)
    # Target
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
    )
    partner = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("partner outlet"),
    )
    engineers = models.ManyToManyField(
        User, blank=True, related_name="+", verbose_name=_("engineer pool")
    )
    mode = models.CharField(_("mode"), max_length=10, choices=RuleMode.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DispatchRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch rules")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mode__in=RuleMode.values), name="dispatch_rule_mode_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("field:rule-edit", args=[self.pk])
