"""A work-order SOP's KPIs against what happened: the work orders of its type completed
in the last ``days`` local days (first-time fix, on time, CSAT). A route SOP's KPIs are
judged on the daily route analysis instead (``analysis.kpis_by_route``).

Rates are fractions (0.85 for 85 %), as the KPIs store them; CSAT is the 1–5 mean."""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from frontline.field.models import Survey, WorkOrder
from frontline.inspections.analysis import day_bounds, kpi_met
from frontline.inspections.states import KpiMetric

DAYS = 30


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def work_order_actuals(*, user, work_order_type: str, first: dt.date, last: dt.date) -> dict:
    """{metric: value or None} over the orders of ``work_order_type`` that ``user`` may see,
    completed between ``first`` and ``last`` (local dates, inclusive); two queries."""
    lo, hi = day_bounds(first, last)
    done = WorkOrder.objects.visible_to(user).filter(
        type=work_order_type, completed_at__gte=lo, completed_at__lt=hi
    )
    sums = done.aggregate(
        completed=Count("pk"),
        ftf=Count("pk", filter=Q(first_time_fix=True)),
        windowed=Count("pk", filter=Q(window_end__isnull=False, checked_in_at__isnull=False)),
        on_time=Count("pk", filter=Q(window_end__isnull=False, checked_in_at__lte=F("window_end"))),
    )
    csat = (
        Survey.objects.visible_to(user)
        .filter(work_order__in=done.values("pk"), csat__isnull=False)
        .aggregate(avg=Avg("csat"))["avg"]
    )
    return {
        KpiMetric.FIRST_TIME_FIX_RATE: _rate(sums["ftf"], sums["completed"]),
        KpiMetric.ON_TIME_RATE: _rate(sums["on_time"], sums["windowed"]),
        KpiMetric.CSAT_AVG: round(float(csat), 2) if csat is not None else None,
        KpiMetric.COMPLETION_RATE: None,
        "completed": sums["completed"],
    }


def judge_work_order_sop(*, user, version, days: int = DAYS, today=None) -> dict:
    """The version's KPIs, each with its actual value and met / not met / no data (None)."""
    last = today or timezone.localdate()
    first = last - dt.timedelta(days=days - 1)
    actuals = work_order_actuals(
        user=user, work_order_type=version.sop.work_order_type, first=first, last=last
    )
    rows = []
    for kpi in version.kpis.all():
        value = actuals.get(kpi.metric)
        rows.append(
            {"kpi": kpi, "actual": value, "met": kpi_met(kpi.comparator, kpi.target, value)}
        )
    return {"first": first, "last": last, "completed": actuals["completed"], "kpis": rows}
