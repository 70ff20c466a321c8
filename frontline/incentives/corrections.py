"""Corrections the award scanner writes when a paid event stops (or starts again) to
deserve its payment. The paid entry is never edited: a correction is a new entry with the
next revision of the same ``(rule, source)`` key, so two runs cannot both write it.

- Quality: an analyst adjusts a round's score after it was paid. Below the threshold the
  payment is reversed; lifted back above it, the first payment's amounts are owed again.
- First-time fix: a revisit order is opened for a work order already paid as fixed first
  time; the payment is reversed (the revisit says it was not fixed).

A correction counts in the month it happens (the adjustment, the revisit), so months
already paid out stay as they were.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Min, Q, Sum
from django.utils.translation import gettext

from frontline.field.models import WorkOrder
from frontline.incentives.models import LedgerEntry, PointRule
from frontline.incentives.states import EntryKind, RuleEvent, SourceType, threshold_of
from frontline.inspections.models import Round
from frontline.inspections.states import RoundStatus


def net_paid(rule: PointRule, source_type: str, source_ids) -> list[dict]:
    """What ``rule`` has paid so far for each of ``source_ids`` (net of corrections)."""
    return list(
        LedgerEntry.objects.filter(rule_id=rule.pk, source_type=source_type)
        .filter(source_id__in=source_ids)
        .order_by()
        .values("source_id")
        .annotate(
            net_points=Sum("points"),
            net_coins=Sum("coins"),
            n=Count("pk"),
            first_points=Sum("points", filter=Q(revision=0)),
            first_coins=Sum("coins", filter=Q(revision=0)),
            user=Min("user_id"),
            team=Min("team_id"),
            project=Min("project_id"),
        )
    )


def _entry(rule: PointRule, paid: dict, source_type: str, owed: tuple, at, now, note: str):
    points = owed[0] - paid["net_points"]
    coins = owed[1] - paid["net_coins"]
    if points == 0 and coins == 0:
        return None
    label = SourceType(source_type).label
    return LedgerEntry(
        user_id=paid["user"], rule_id=rule.pk, event=rule.event, kind=EntryKind.CORRECTION,
        source_type=source_type, source_id=paid["source_id"], revision=paid["n"],
        points=points, coins=coins, occurred_at=at or now, created_at=now,
        team_id=paid["team"], project_id=paid["project"],
        reason=f"{rule.name} · {label} #{paid['source_id']} · {note}"[:300],
    )  # fmt: skip


def quality(rule: PointRule, since, until, now) -> list[LedgerEntry]:
    """Rounds whose score was adjusted in the window, across the rule's threshold."""
    adjusted = Round.objects.filter(
        status=RoundStatus.COMPLETED, quality_adjusted_at__gte=since, quality_adjusted_at__lt=until
    ).values("pk")
    paid = net_paid(rule, SourceType.ROUND, adjusted)
    rounds = {
        pk: (score, at)
        for pk, score, at in Round.objects.filter(
            pk__in=[p["source_id"] for p in paid]
        ).values_list("pk", "quality_score", "quality_adjusted_at")
    }
    out = []
    for p in paid:
        score, adjusted_at = rounds.get(p["source_id"], (None, None))
        qualifies = score is not None and score >= threshold_of(rule)
        owed = (p["first_points"], p["first_coins"]) if qualifies else (0, Decimal(0))
        note = str(score) if score is not None else "—"
        entry = _entry(rule, p, SourceType.ROUND, owed, adjusted_at, now, note)
        if entry is not None:
            out.append(entry)
    return out


def revisits(rule: PointRule, since, until, now) -> list[LedgerEntry]:
    """Work orders paid as fixed first time that got a revisit order in the window."""
    first_revisit = dict(
        WorkOrder.objects.filter(
            revisit_of__isnull=False, created_at__gte=since, created_at__lt=until
        )
        .order_by()
        .values("revisit_of")
        .annotate(at=Min("created_at"))
        .values_list("revisit_of", "at")
    )
    if not first_revisit:
        return []
    out = []
    for p in net_paid(rule, SourceType.WORK_ORDER, list(first_revisit)):
        at = first_revisit[p["source_id"]]
        entry = _entry(
            rule, p, SourceType.WORK_ORDER, (0, Decimal(0)), at, now, gettext("revisit opened")
        )
        if entry is not None:
            out.append(entry)
    return out


def for_rule(rule: PointRule, since, until) -> list[LedgerEntry]:
    now = until
    if rule.event == RuleEvent.ROUND_QUALITY:
        return quality(rule, since, until, now)
    if rule.event == RuleEvent.FIRST_TIME_FIX:
        return revisits(rule, since, until, now)
    return []
