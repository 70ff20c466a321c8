"""Point rules, the append-only points/coins ledger, wallets, redemptions and settings."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Team, User
from frontline.incentives import access
from frontline.incentives.states import EntryKind, RedemptionStatus, RuleEvent, SourceType
from frontline.sites.models import Project

ZERO = Decimal("0.00")


class PointRuleQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if access.may_view_rules(user) else self.none()

    def active(self):
        return self.filter(is_active=True)


class PointRule(models.Model):
    """An event and what it pays: points (negative for a penalty) and coins.

    A rule may be limited to one project or one team and to a validity period. Changing
    a rule changes future payments only: entries already written keep their amounts.
    """

    name = models.CharField(_("name"), max_length=120)
    event = models.CharField(_("event"), max_length=24, choices=RuleEvent.choices)
    threshold = models.DecimalField(
        _("threshold"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Quality score (0–100) or CSAT (1–5) needed to earn."),
    )
    points = models.IntegerField(_("points"), default=0, help_text=_("Negative for a penalty."))
    coins = models.DecimalField(_("coins"), max_digits=10, decimal_places=2, default=ZERO)
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only for project"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only for team"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PointRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("point rule")
        verbose_name_plural = _("point rules")
        ordering = ["event", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(event__in=RuleEvent.values), name="point_rule_event_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="point_rule_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("incentives:rule-edit", args=[self.pk])


class LedgerEntryQuerySet(models.QuerySet):
    def visible_to(self, user):
        return access.scope_own(self, user)

    def update(self, **kwargs):
        raise ValueError("Ledger entries are append-only")

    def delete(self):
        raise ValueError("Ledger entries are append-only")


class LedgerEntry(models.Model):
    """One movement of points and coins. Append-only: a correction is a new entry.

    ``(rule, source_type, source_id, revision)`` is unique, so a rule pays a source
    event once (revision 0); corrections of that payment take the next revisions.
    ``occurred_at`` is when the source event happened: the month it counts in.
    ``team`` and ``project`` are copied from the source so rankings read one table.
    Every foreign key protects: history never loses a name, and a delete that would
    rewrite entries is refused (a 409 through ``core.deletion.erase``).
    """

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("engineer")
    )
    rule = models.ForeignKey(
        PointRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("rule"),
        db_index=False,
    )
    event = models.CharField(_("event"), max_length=24, choices=RuleEvent.choices, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    source_type = models.CharField(_("source"), max_length=12, choices=SourceType.choices)
    source_id = models.BigIntegerField(_("source id"))
    revision = models.PositiveSmallIntegerField(default=0)
    points = models.IntegerField(_("points"), default=0)
    coins = models.DecimalField(_("coins"), max_digits=12, decimal_places=2, default=ZERO)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("when"))
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
        db_index=False,
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("project"),
        db_index=False,
    )

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "source_type", "source_id", "revision"],
                condition=models.Q(rule__isnull=False),
                name="ledger_rule_pays_source_once",
            ),
            models.UniqueConstraint(
                fields=["kind", "source_type", "source_id", "revision"],
                condition=models.Q(rule__isnull=True),
                name="ledger_ruleless_source_once",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=EntryKind.values), name="ledger_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "occurred_at"], name="ledger_user_idx"),
            models.Index(fields=["occurred_at"], name="ledger_month_idx"),
            models.Index(fields=["team", "occurred_at"], name="ledger_team_idx"),
            models.Index(fields=["project", "occurred_at"], name="ledger_project_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.points:+d} / {self.coins} ({self.kind})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only")


class WalletQuerySet(models.QuerySet):
    def visible_to(self, user):
        return access.scope_own(self, user)


class Wallet(models.Model):
    """A user's balances: always the sum of their ledger entries, rewritten under the
    wallet's row lock whenever entries are added."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="wallet", verbose_name=_("engineer")
    )
    points_balance = models.BigIntegerField(_("points"), default=0)
    coins_balance = models.DecimalField(_("coins"), max_digits=14, decimal_places=2, default=ZERO)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = WalletQuerySet.as_manager()

    class Meta:
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.points_balance} / {self.coins_balance}"


class RedemptionQuerySet(models.QuerySet):
    def visible_to(self, user):
        return access.scope_own(self, user)


class Redemption(models.Model):
    """Coins exchanged for cash at the rate of the day of the request, once a manager
    approves; approval writes the negative coins entry, payroll pays the cash."""

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("engineer")
    )
    coins = models.DecimalField(
        _("coins"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    rate = models.DecimalField(_("cash per coin"), max_digits=12, decimal_places=4)
    cash_amount = models.DecimalField(_("cash"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RedemptionStatus.choices,
        default=RedemptionStatus.REQUESTED,
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    exported_at = models.DateTimeField(_("exported for payroll"), null=True, blank=True)

    objects = RedemptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(coins__gt=0), name="redemption_coins_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RedemptionStatus.values),
                name="redemption_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status"], name="redemption_user_status_idx"),
            models.Index(fields=["status", "requested_at"], name="redemption_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.coins} → {self.cash_amount} {self.currency}"


class IncentiveSettingsQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if access.takes_part(user) else self.none()


class IncentiveSettings(models.Model):
    """One row: how much cash a coin is worth, and in which currency."""

    coin_rate = models.DecimalField(
        _("cash per coin"),
        max_digits=12,
        decimal_places=4,
        default=Decimal("1.0000"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = IncentiveSettingsQuerySet.as_manager()

    class Meta:
        verbose_name = _("incentive settings")
        verbose_name_plural = _("incentive settings")

    def __str__(self) -> str:
        return f"1 coin = {self.coin_rate} {self.currency}"

    @classmethod
    def current(cls) -> IncentiveSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
