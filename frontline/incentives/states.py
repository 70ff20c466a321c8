"""Incentive choices: the events a point rule pays for, ledger entry kinds, and the one
redemption transition table."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RuleEvent(models.TextChoices):
    ROUND_COMPLETED = "round_completed", _("Round completed")
    ROUND_QUALITY = "round_quality", _("Round quality at least the threshold")
    ANOMALY_CONFIRMED = "anomaly_confirmed", _("Anomaly found and confirmed")
    FIRST_TIME_FIX = "first_time_fix", _("Work order closed first time")
    CSAT = "csat", _("Customer satisfaction at the top score")
    SLA_MET = "sla_met", _("Ticket resolved within its SLA")
    ROUND_MISSED = "round_missed", _("Round missed (penalty)")


# Events that take away: their rules must not pay out.
PENALTY_EVENTS = frozenset({RuleEvent.ROUND_MISSED})
# Events whose rule needs a threshold (quality 0-100, CSAT 1-5).
THRESHOLD_EVENTS = frozenset({RuleEvent.ROUND_QUALITY, RuleEvent.CSAT})

# A rule saved without a threshold (the services always set one) uses these.
DEFAULT_THRESHOLDS = {RuleEvent.ROUND_QUALITY: Decimal(80), RuleEvent.CSAT: Decimal(5)}


def threshold_of(rule) -> Decimal | None:
    """What a rule's event value must reach, or None for events without a threshold."""
    if rule.event not in DEFAULT_THRESHOLDS:
        return None
    return rule.threshold if rule.threshold is not None else DEFAULT_THRESHOLDS[rule.event]


class SourceType(models.TextChoices):
    ROUND = "round", _("Round")
    ANOMALY = "anomaly", _("Anomaly")
    WORK_ORDER = "work_order", _("Work order")
    SURVEY = "survey", _("Survey")
    TICKET = "ticket", _("Ticket")
    REDEMPTION = "redemption", _("Redemption")


# Which source each event reads.
EVENT_SOURCE: dict[str, str] = {
    RuleEvent.ROUND_COMPLETED: SourceType.ROUND,
    RuleEvent.ROUND_QUALITY: SourceType.ROUND,
    RuleEvent.ROUND_MISSED: SourceType.ROUND,
    RuleEvent.ANOMALY_CONFIRMED: SourceType.ANOMALY,
    RuleEvent.FIRST_TIME_FIX: SourceType.WORK_ORDER,
    RuleEvent.CSAT: SourceType.SURVEY,
    RuleEvent.SLA_MET: SourceType.TICKET,
}


class EntryKind(models.TextChoices):
    AWARD = "award", _("Award")
    PENALTY = "penalty", _("Penalty")
    REDEMPTION = "redemption", pgettext_lazy("ledger", "Redemption")
    CORRECTION = "correction", _("Correction")


# Kinds that count towards a month's ranking (a redemption spends coins, it earns nothing).
EARNING_KINDS = frozenset({EntryKind.AWARD, EntryKind.PENALTY, EntryKind.CORRECTION})


class RedemptionStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("redemption", "Requested")
    APPROVED = "approved", pgettext_lazy("redemption", "Approved")
    REJECTED = "rejected", pgettext_lazy("redemption", "Rejected")
    PAID = "paid", pgettext_lazy("redemption", "Paid")


RS = RedemptionStatus

REDEMPTION_TRANSITIONS: dict[str, frozenset[str]] = {
    RS.REQUESTED: frozenset({RS.APPROVED, RS.REJECTED}),
    RS.APPROVED: frozenset({RS.PAID}),
    RS.REJECTED: frozenset(),
    RS.PAID: frozenset(),
}


def redemption_can_move(old: str, new: str) -> bool:
    return new in REDEMPTION_TRANSITIONS.get(old, frozenset())
