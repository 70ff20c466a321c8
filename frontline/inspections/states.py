"""Inspection choices and the one round transition table."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ItemKind(models.TextChoices):
    NUMBER = "number", _("Number")
    YES_NO = "yes_no", _("Yes / no")
    CHOICE = "choice", _("Choice")
    TEXT = "text", _("Text")
    PHOTO = "photo", _("Photo")


class ScheduleKind(models.TextChoices):
    EVERY_SHIFT = "every_shift", _("Every shift")
    EVERY_N_HOURS = "every_n_hours", _("Every N hours")
    DAILY = "daily", _("Daily at set times")
    WEEKLY = "weekly", _("Weekly")


class RoundStatus(models.TextChoices):
    SCHEDULED = "scheduled", pgettext_lazy("round", "Scheduled")
    IN_PROGRESS = "in_progress", pgettext_lazy("round", "In progress")
    COMPLETED = "completed", pgettext_lazy("round", "Completed")
    MISSED = "missed", pgettext_lazy("round", "Missed")
    CANCELLED = "cancelled", pgettext_lazy("round", "Cancelled")


R = RoundStatus

# A scheduled round nobody started by the end of its window is missed; a round started
# but never finished is missed too once the sweep gives up on it (its visits stay).
TRANSITIONS: dict[str, frozenset[str]] = {
    R.SCHEDULED: frozenset({R.IN_PROGRESS, R.MISSED, R.CANCELLED}),
    R.IN_PROGRESS: frozenset({R.COMPLETED, R.MISSED, R.CANCELLED}),
    R.COMPLETED: frozenset(),
    R.MISSED: frozenset(),
    R.CANCELLED: frozenset(),
}

OPEN_ROUND_STATUSES = frozenset({R.SCHEDULED, R.IN_PROGRESS})


def can_move(old: str, new: str) -> bool:
    return new in TRANSITIONS.get(old, frozenset())


class VisitStatus(models.TextChoices):
    VISITED = "visited", _("Visited")
    SKIPPED = "skipped", _("Skipped")


class SkipReason(models.TextChoices):
    NO_ACCESS = "no_access", _("No access")
    EQUIPMENT_OFF = "equipment_off", _("Equipment switched off")
    UNSAFE = "unsafe", _("Unsafe to approach")
    UNDER_MAINTENANCE = "under_maintenance", _("Under maintenance")
    OTHER = "other", _("Other")


class AnomalySource(models.TextChoices):
    OUT_OF_RANGE = "out_of_range", _("Reading out of range")
    FAILED_CHECK = "failed_check", _("Failed check")
    REPORTED = "reported", _("Reported by the engineer")


class AnomalyStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("anomaly", "Open")
    CONFIRMED = "confirmed", pgettext_lazy("anomaly", "Confirmed")
    HANDLED = "handled", pgettext_lazy("anomaly", "Handled")
    DISMISSED = "dismissed", pgettext_lazy("anomaly", "Dismissed")


A = AnomalyStatus

# Open and confirmed anomalies are "not handled"; one of those per checkpoint and item.
ANOMALY_TRANSITIONS: dict[str, frozenset[str]] = {
    A.OPEN: frozenset({A.CONFIRMED, A.HANDLED, A.DISMISSED}),
    A.CONFIRMED: frozenset({A.HANDLED, A.DISMISSED}),
    A.HANDLED: frozenset(),
    A.DISMISSED: frozenset(),
}

UNHANDLED_ANOMALY_STATUSES = frozenset({A.OPEN, A.CONFIRMED})


def anomaly_can_move(old: str, new: str) -> bool:
    return new in ANOMALY_TRANSITIONS.get(old, frozenset())


class AnomalyAction(models.TextChoices):
    NONE = "none", _("Record only")
    WORK_ORDER = "work_order", _("Open a work order")
    TICKET = "ticket", _("Open a ticket")


class KpiKind(models.TextChoices):
    RESULT = "result", _("Result KPI")
    PROCESS = "process", _("Process KPI")


class KpiMetric(models.TextChoices):
    """Metrics an SOP's KPIs may name: the daily route analysis' fields (rates are 0-1,
    shown as percentages), and for work-order SOPs the field report's."""

    QUALITY_AVG = "quality_avg", _("Average quality score")
    COMPLETION_RATE = "completion_rate", _("Completion rate")
    ON_TIME_RATE = "on_time_rate", _("On-time rate")
    COVERAGE = "coverage", _("Checkpoint coverage")
    HANDLED_RATE = "handled_rate", _("Anomalies handled")
    DURATION_CV = "duration_cv", _("Duration variability (CV)")
    MINUTES_PER_POINT = "minutes_per_point", _("Minutes per checkpoint")
    FIRST_TIME_FIX_RATE = "first_time_fix_rate", _("First-time fix rate")
    CSAT_AVG = "csat_avg", _("Average CSAT")


class Comparator(models.TextChoices):
    AT_LEAST = "gte", _("at least")
    AT_MOST = "lte", _("at most")
