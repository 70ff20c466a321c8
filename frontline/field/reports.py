"""The field-service report for a period: volume, first-time fix, punctuality, CSAT and NPS,
overall and per engineer, in a fixed number of queries.

Days run midnight to midnight in Asia/Shanghai, as the desk's daily report. A visit is
on time when the engineer checked in before the appointment window closed. NPS is the
share of promoters (9–10) minus the share of detractors (0–6), in points.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Avg, Count, F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import User
from frontline.accounts.roles import Cap
from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.desk.exports import Sheet, xlsx_bytes
from frontline.field.models import Survey, WorkOrder
from frontline.field.models.scoping import is_field_staff
from frontline.field.states import WorkOrderStatus

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
MAX_DAYS = 366
W = WorkOrderStatus


@dataclass(frozen=True)
class Totals:
    created: int
    completed: int
    cancelled: int
    first_time_fix_rate: float | None
    on_time_rate: float | None
    far_check_ins: int
    average_minutes_on_site: float | None
    responses: int
    csat: float | None
    nps: float | None


@dataclass(frozen=True)
class EngineerRow:
    id: int
    name: str
    completed: int
    first_time_fix_rate: float | None
    on_time_rate: float | None
    responses: int
    csat: float | None
    nps: float | None


@dataclass(frozen=True)
class FieldReport:
    start: dt.date
    end: dt.date
    totals: Totals
    engineers: list[EngineerRow]


def check_access(user) -> None:
    if not is_field_staff(user) or not (
        user.has_capability(Cap.DISPATCH_WORK) or user.has_capability(Cap.VIEW_DESK_REPORTS)
    ):
        raise PermissionDenied()


def parse_period(start, end, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """``start``/``end`` as YYYY-MM-DD (inclusive); default the last 30 days."""
    try:
        last = dt.date.fromisoformat(end) if end else today
        first = dt.date.fromisoformat(start) if start else last - dt.timedelta(days=29)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"start": [_("Give dates as YYYY-MM-DD.")]})
    if first > last:
        raise ValidationFailed(fields={"end": [_("The period ends before it starts.")]})
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed(fields={"start": [_("At most a year at a time.")]})
    return first, last


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _nps(promoters: int, detractors: int, responses: int) -> float | None:
    return round(100.0 * (promoters - detractors) / responses, 1) if responses else None


def _bounds(start: dt.date, end: dt.date):
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=TZ),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=TZ),
    )


_DONE = {
    "completed": Count("pk"),
    "ftf": Count("pk", filter=Q(first_time_fix=True)),
    "on_time": Count("pk", filter=Q(window_end__isnull=False, checked_in_at__lte=F("window_end"))),
    "windowed": Count("pk", filter=Q(window_end__isnull=False, checked_in_at__isnull=False)),
}
_SURVEYS = {
    "responses": Count("pk"),
    "csat": Avg("csat"),
    "promoters": Count("pk", filter=Q(nps__gte=9)),
    "detractors": Count("pk", filter=Q(nps__lte=6)),
}


def build(*, user, start: dt.date, end: dt.date) -> FieldReport:
    check_access(user)
    lo, hi = _bounds(start, end)
    orders = WorkOrder.objects.visible_to(user)
    created = orders.filter(created_at__gte=lo, created_at__lt=hi).aggregate(
        created=Count("pk"), cancelled=Count("pk", filter=Q(status=W.CANCELLED))
    )
    done = orders.filter(completed_at__gte=lo, completed_at__lt=hi)
    totals = done.aggregate(
        **_DONE,
        far=Count("pk", filter=Q(check_in_flagged=True)),
        on_site=Avg(F("checked_out_at") - F("checked_in_at")),
    )
    surveys = Survey.objects.visible_to(user).filter(submitted_at__gte=lo, submitted_at__lt=hi)
    answers = surveys.aggregate(**_SURVEYS)
    on_site = totals["on_site"]
    minutes = round(on_site.total_seconds() / 60, 1) if on_site is not None else None
    summary = Totals(
        created=created["created"],
        completed=totals["completed"],
        cancelled=created["cancelled"],
        first_time_fix_rate=_rate(totals["ftf"], totals["completed"]),
        on_time_rate=_rate(totals["on_time"], totals["windowed"]),
        far_check_ins=totals["far"],
        average_minutes_on_site=minutes,
        responses=answers["responses"],
        csat=round(answers["csat"], 2) if answers["csat"] is not None else None,
        nps=_nps(answers["promoters"], answers["detractors"], answers["responses"]),
    )
    return FieldReport(start, end, summary, _per_engineer(done, surveys))


def _per_engineer(done, surveys) -> list[EngineerRow]:
    work = {r["assignee"]: r for r in done.values("assignee").annotate(**_DONE)}
    answers = {r["engineer"]: r for r in surveys.values("engineer").annotate(**_SURVEYS)}
    ids = [pk for pk in set(work) | set(answers) if pk is not None]
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "display_name"))
    rows = []
    for pk in ids:
        w = work.get(pk, {"completed": 0, "ftf": 0, "on_time": 0, "windowed": 0})
        a = answers.get(pk, {"responses": 0, "csat": None, "promoters": 0, "detractors": 0})
        rows.append(
            EngineerRow(
                id=pk,
                name=names.get(pk, ""),
                completed=w["completed"],
                first_time_fix_rate=_rate(w["ftf"], w["completed"]),
                on_time_rate=_rate(w["on_time"], w["windowed"]),
                responses=a["responses"],
                csat=round(a["csat"], 2) if a["csat"] is not None else None,
                nps=_nps(a["promoters"], a["detractors"], a["responses"]),
            )
        )
    return sorted(rows, key=lambda r: (-r.completed, r.name))


def to_xlsx(report: FieldReport) -> bytes:
    t = report.totals
    summary = Sheet(gettext("Summary"), [gettext("Measure"), gettext("Value")])
    for label, value in [
        (gettext("Period"), f"{report.start:%Y-%m-%d} – {report.end:%Y-%m-%d}"),
        (gettext("Work orders created"), t.created),
        (gettext("Completed"), t.completed),
        (gettext("Cancelled"), t.cancelled),
        (gettext("First-time fix (%)"), t.first_time_fix_rate),
        (gettext("On time (%)"), t.on_time_rate),
        (gettext("Check-ins far from the site"), t.far_check_ins),
        (gettext("Average minutes on site"), t.average_minutes_on_site),
        (gettext("Survey responses"), t.responses),
        (gettext("CSAT (1–5)"), t.csat),
        (gettext("NPS"), t.nps),
    ]:
        summary.add([label, value])
    people = Sheet(
        gettext("Engineers"),
        [gettext("Engineer"), gettext("Completed"), gettext("First-time fix (%)"),
         gettext("On time (%)"), gettext("Survey responses"), gettext("CSAT (1–5)"),
         gettext("NPS")],
    )  # fmt: skip
    for r in report.engineers:
        people.add([r.name, r.completed, r.first_time_fix_rate, r.on_time_rate, r.responses,
                    r.csat, r.nps])  # fmt: skip
    return xlsx_bytes([summary, people])
