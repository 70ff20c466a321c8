"""The daily route analysis, the quality trend and their drill-downs (read-only selectors).

The definitions are in docs/inspection-analysis.md; in short, for a range of local days
(``settings.TIME_ZONE``, both ends inclusive) and each route the user may see:

- a round belongs to the range when its ``window_start`` falls on one of those days;
  cancelled rounds never count (they were called off, not missed);
- on time = completed, started at or after the window opened and finished at or before
  it closed;
- rates divide by the scheduled rounds (``None`` when there are none); coverage by the
  points planned; ``handled_rate`` by the anomalies raised in those rounds;
- durations are ``finished_at - started_at`` of completed rounds, ``duration_cv`` their
  population standard deviation over their mean.

Everything is set-based: one aggregate over rounds grouped by route, one over anomalies
grouped by route and one for the routes themselves, whatever the number of routes.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import Counter
from decimal import Decimal

from django.conf import settings
from django.db.models import Avg, Count, F, FloatField, Func, Prefetch, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.core.errors import NotFound, ValidationFailed
from frontline.inspections.models import (
    Anomaly,
    PointVisit,
    QualityScheme,
    Reading,
    Round,
    Route,
    SopKpi,
)
from frontline.inspections.models.scoping import scope_inspections
from frontline.inspections.states import AnomalyStatus, Comparator, RoundStatus
from frontline.sites.models import Project

MAX_DAYS = 366
DEFAULT_STANDARD = QualityScheme._meta.get_field("standard").default  # 80

FIELDS = (
    "scheduled_rounds",
    "completed_rounds",
    "on_time_rounds",
    "completion_rate",
    "on_time_rate",
    "points_planned",
    "points_visited",
    "coverage",
    "anomalies",
    "anomalies_handled",
    "handled_rate",
    "minutes_total",
    "minutes_per_point",
    "duration_cv",
    "quality_avg",
)
IDENTITY = ("project_id", "project_code", "project_name", "route_id", "route_code", "route_name")
RATE_FIELDS = ("completion_rate", "on_time_rate", "coverage", "handled_rate")


def tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


class DurationSeconds(Func):
    """``finished - started`` in seconds as a float, on PostgreSQL and SQLite alike."""

    output_field = FloatField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_sql(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"EXTRACT(EPOCH FROM ({end} - {start}))", [*end_params, *start_params]

    def as_sqlite(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"((julianday({end}) - julianday({start})) * 86400.0)", [
            *end_params,
            *start_params,
        ]


class Squared(Func):
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) * ({sql}))", [*params, *params]


class AnalysisRow(dict):
    """One route's figures (exactly IDENTITY + FIELDS as keys). ``sums`` keeps the raw
    totals the rates came from, so that project roll-ups add sums, never average rates."""

    sums: dict


# ---------------------------------------------------------------------------- period


def day_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[midnight of date_from, midnight after date_to) in the configured time zone."""
    zone = tz()
    return (
        dt.datetime.combine(date_from, dt.time.min, tzinfo=zone),
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone),
    )


def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


def parse_period(date_from, date_to) -> tuple[dt.date, dt.date]:
    """YYYY-MM-DD strings (either may be empty: default yesterday) → dates, or 400."""
    try:
        first = dt.date.fromisoformat(date_from) if date_from else None
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"date_from": [_("Give dates as YYYY-MM-DD.")]})
    try:
        last = dt.date.fromisoformat(date_to) if date_to else None
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"date_to": [_("Give dates as YYYY-MM-DD.")]})
    if first is None and last is None:
        first = last = yesterday()
    first = first or last
    last = last or first
    check_period(first, last)
    return first, last


def check_period(first: dt.date, last: dt.date) -> None:
    if first > last:
        raise ValidationFailed(fields={"date_to": [_("The range ends before it starts.")]})
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed(fields={"date_from": [_("At most 366 days at a time.")]})


def visible_projects(user):
    return scope_inspections(Project.objects.all(), user, "customer").order_by("code")


def resolve_project(user, project) -> Project | None:
    """A project the user may see (instance or id), ``None`` for all; else 404."""
    if project is None or project == "":
        return None
    pk = project.pk if isinstance(project, Project) else project
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"project": [_("Give a project id.")]})
    found = visible_projects(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such project."))
    return found


# ---------------------------------------------------------------------------- analysis


_COMPLETED = Q(status=RoundStatus.COMPLETED)
_TIMED = _COMPLETED & Q(started_at__isnull=False, finished_at__isnull=False)
_ON_TIME = _TIMED & Q(started_at__gte=F("window_start"), finished_at__lte=F("window_end"))
_SCORED = _COMPLETED & Q(quality_score__isnull=False)


def _round_aggregates() -> dict:
    seconds = DurationSeconds(F("finished_at"), F("started_at"))
    return {
        "scheduled": Count("pk"),
        "completed": Count("pk", filter=_COMPLETED),
        "on_time": Count("pk", filter=_ON_TIME),
        "planned": Sum("points_planned"),
        "visited": Sum("points_visited"),
        "timed": Count("pk", filter=_TIMED),
        "timed_visited": Sum("points_visited", filter=_TIMED),
        "seconds": Sum(seconds, filter=_TIMED),
        "seconds_sq": Sum(Squared(seconds), filter=_TIMED),
        "scored": Count("pk", filter=_SCORED),
        "quality_sum": Sum("quality_score", filter=_SCORED),
    }


EMPTY_SUMS = {
    "scheduled": 0,
    "completed": 0,
    "on_time": 0,
    "planned": 0,
    "visited": 0,
    "timed": 0,
    "timed_visited": 0,
    "seconds": 0.0,
    "seconds_sq": 0.0,
    "scored": 0,
    "quality_sum": Decimal(0),
    "anomalies": 0,
    "handled": 0,
}


def rounds_in_range(*, user, date_from: dt.date, date_to: dt.date, project=None):
    """The rounds that count: visible, window opening in the range, not cancelled."""
    lo, hi = day_bounds(date_from, date_to)
    qs = Round.objects.visible_to(user).filter(window_start__gte=lo, window_start__lt=hi)
    if project is not None:
        qs = qs.filter(project_id=getattr(project, "pk", project))
    return qs.exclude(status=RoundStatus.CANCELLED)


def route_analysis(*, user, date_from: dt.date, date_to: dt.date, project=None) -> list[dict]:
    """One row per route (active ones, and inactive ones with rounds in the range), ordered
    by project and route code. Three queries whatever the number of routes."""
    check_period(date_from, date_to)
    rounds = rounds_in_range(user=user, date_from=date_from, date_to=date_to, project=project)
    sums = {
        row.pop("route_id"): row
        for row in rounds.order_by().values("route_id").annotate(**_round_aggregates())
    }
    anomalies = Anomaly.objects.visible_to(user).filter(round__in=rounds.order_by().values("pk"))
    for row in (
        anomalies.order_by()
        .values("route_id")
        .annotate(n=Count("pk"), handled=Count("pk", filter=Q(status=AnomalyStatus.HANDLED)))
    ):
        sums.setdefault(row["route_id"], {})
        sums[row["route_id"]].update(anomalies=row["n"], handled=row["handled"])
    routes = Route.objects.visible_to(user).filter(
        Q(is_active=True) | Q(pk__in=rounds.order_by().values("route_id"))
    )
    if project is not None:
        routes = routes.filter(project_id=getattr(project, "pk", project))
    routes = routes.order_by("project__code", "code", "pk").values_list(
        "pk", "code", "name", "project_id", "project__code", "project__name"
    )
    return [
        _row(route, {**EMPTY_SUMS, **{k: v for k, v in sums.get(route[0], {}).items() if v}})
        for route in routes
    ]


def _div(part, whole, digits=4):
    return round(float(part) / float(whole), digits) if whole else None


def figures(s: dict) -> dict:
    """The analysis fields from raw sums (shared by routes and project roll-ups)."""
    timed, seconds = s["timed"], float(s["seconds"] or 0)
    mean = seconds / timed if timed else 0.0
    cv = None
    if timed and mean > 0:
        variance = max(float(s["seconds_sq"] or 0) / timed - mean * mean, 0.0)
        cv = round(math.sqrt(variance) / mean, 4)
    minutes = seconds / 60
    return {
        "scheduled_rounds": s["scheduled"],
        "completed_rounds": s["completed"],
        "on_time_rounds": s["on_time"],
        "completion_rate": _div(s["completed"], s["scheduled"]),
        "on_time_rate": _div(s["on_time"], s["scheduled"]),
        "points_planned": s["planned"],
        "points_visited": s["visited"],
        "coverage": _div(s["visited"], s["planned"]),
        "anomalies": s["anomalies"],
        "anomalies_handled": s["handled"],
        "handled_rate": _div(s["handled"], s["anomalies"]),
        "minutes_total": round(minutes, 2),
        "minutes_per_point": _div(minutes, s["timed_visited"], 2),
        "duration_cv": cv,
        "quality_avg": _div(s["quality_sum"], s["scored"], 2),
    }


def _row(route: tuple, sums: dict) -> AnalysisRow:
    """``route``: (id, code, name, project id, project code, project name)."""
    pk, code, name, project_id, project_code, project_name = route
    row = AnalysisRow(
        project_id=project_id,
        project_code=project_code,
        project_name=project_name,
        route_id=pk,
        route_code=code,
        route_name=name,
        **figures(sums),
    )
    row.sums = sums
    return row


def project_rollup(rows: list[dict]) -> list[dict]:
    """Per project, the same definitions applied to the summed totals of its routes:
    ``[{project_id, project_code, project_name, routes: [rows], **fields}]``."""
    projects: dict[int, dict] = {}
    for row in rows:
        entry = projects.get(row["project_id"])
        if entry is None:
            entry = projects[row["project_id"]] = {
                "project_id": row["project_id"],
                "project_code": row["project_code"],
                "project_name": row["project_name"],
                "routes": [],
                "_sums": dict.fromkeys(EMPTY_SUMS, 0),
            }
        entry["routes"].append(row)
        for key in EMPTY_SUMS:
            entry["_sums"][key] += row.sums[key] or 0
    result = []
    for entry in projects.values():
        sums = entry.pop("_sums")
        entry.update(figures(sums))
        result.append(entry)
    return result


# ---------------------------------------------------------------------------- SOP KPIs


def kpis_by_route(*, user, rows: list[dict]) -> dict[int, list[dict]]:
    """Each route's active SOP version's KPIs against the row's actual value, in one
    query. SOPs are operator configuration: a customer gets none."""
    route_ids = [r["route_id"] for r in rows]
    kpis = (
        SopKpi.objects.visible_to(user)
        .filter(version__routes__in=route_ids)
        .annotate(route_id=F("version__routes"))
        .select_related("version__sop")
        .order_by("position", "pk")
    )
    by_route: dict[int, list[dict]] = {}
    actual = {r["route_id"]: r for r in rows}
    for kpi in kpis:
        value = actual[kpi.route_id].get(kpi.metric)
        by_route.setdefault(kpi.route_id, []).append(
            {"kpi": kpi, "actual": value, "met": kpi_met(kpi.comparator, kpi.target, value)}
        )
    return by_route


def kpi_met(comparator: str, target, actual) -> bool | None:
    """``None`` when there is no actual value to judge (no rounds, no anomalies)."""
    if actual is None:
        return None
    if comparator == Comparator.AT_LEAST:
        return float(actual) >= float(target)
    return float(actual) <= float(target)


def standards_by_route(route_ids) -> dict[int, int]:
    """The quality standard line of each route's scheme (default 80)."""
    rows = Route.objects.filter(pk__in=list(route_ids)).values_list(
        "pk", "quality_scheme__standard"
    )
    return {pk: standard or DEFAULT_STANDARD for pk, standard in rows}


# ---------------------------------------------------------------------------- trend


def quality_trends(*, user, projects, days: int = 30, end: dt.date | None = None) -> dict:
    """``{project_id: [{date, quality_avg, rounds}]}`` for the ``days`` local days ending
    ``end`` (default today), one entry per day (``quality_avg`` None on days without
    scored completed rounds). One query for all the projects."""
    end = end or timezone.localdate()
    start = end - dt.timedelta(days=days - 1)
    lo, hi = day_bounds(start, end)
    ids = [getattr(p, "pk", p) for p in projects]
    rows = (
        Round.objects.visible_to(user)
        .filter(project_id__in=ids, window_start__gte=lo, window_start__lt=hi)
        .filter(_SCORED)
        .annotate(day=TruncDate("window_start", tzinfo=tz()))
        .order_by()
        .values("project_id", "day")
        .annotate(avg=Avg("quality_score"), n=Count("pk"))
    )
    found = {(r["project_id"], r["day"]): r for r in rows}
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    result = {}
    for pk in ids:
        series = []
        for day in dates:
            r = found.get((pk, day))
            series.append(
                {
                    "date": day,
                    "quality_avg": round(float(r["avg"]), 2) if r else None,
                    "rounds": r["n"] if r else 0,
                }
            )
        result[pk] = series
    return result


def quality_trend(*, user, project, days: int = 30, end: dt.date | None = None) -> list[dict]:
    """The daily trend of one project (see :func:`quality_trends`)."""
    pk = getattr(project, "pk", project)
    return quality_trends(user=user, projects=[pk], days=days, end=end)[pk]


def project_standards(project_ids) -> dict[int, int]:
    """A project's standard line: the one most of its active routes' schemes use (80 for
    routes without a scheme); one query."""
    counts: dict[int, Counter] = {pk: Counter() for pk in project_ids}
    for pk, standard in Route.objects.filter(
        project_id__in=list(project_ids), is_active=True
    ).values_list("project_id", "quality_scheme__standard"):
        counts[pk][standard or DEFAULT_STANDARD] += 1
    return {pk: (c.most_common(1)[0][0] if c else DEFAULT_STANDARD) for pk, c in counts.items()}


def lowest_rounds(*, user, projects, days: int = 30, end=None, limit: int = 20):
    """The lowest-scoring completed rounds of the period, with computed and adjusted scores."""
    end = end or timezone.localdate()
    lo, hi = day_bounds(end - dt.timedelta(days=days - 1), end)
    return list(
        Round.objects.visible_to(user)
        .filter(project_id__in=[getattr(p, "pk", p) for p in projects])
        .filter(_SCORED, window_start__gte=lo, window_start__lt=hi)
        .select_related("route", "project", "assignee", "quality_adjusted_by")
        .order_by("quality_score", "-window_start", "pk")[:limit]
    )


# ---------------------------------------------------------------------------- drill-down


def visible_route(*, user, route_id) -> Route:
    route = (
        Route.objects.visible_to(user).select_related("project", "site").filter(pk=route_id).first()
    )
    if route is None:
        raise NotFound()
    return route


def route_rounds(*, user, route, date_from: dt.date, date_to: dt.date) -> list[Round]:
    """Every round of ``route`` whose window opens in the range, cancelled ones too (the
    page marks them: they do not count), with each one's anomaly count."""
    lo, hi = day_bounds(date_from, date_to)
    return list(
        Round.objects.visible_to(user)
        .filter(route=route, window_start__gte=lo, window_start__lt=hi)
        .select_related("assignee")
        .annotate(
            anomaly_count=Count("anomalies", distinct=True),
            anomalies_handled=Count(
                "anomalies", filter=Q(anomalies__status=AnomalyStatus.HANDLED), distinct=True
            ),
        )
        .order_by("window_start", "pk")
    )


def round_visits(*, user, round_id) -> tuple[Round, list[PointVisit]]:
    """A visible round and its visits in the order recorded, each with ``gap_seconds``
    since the previous one (from the round's start for the first) and its readings."""
    round_ = (
        Round.objects.visible_to(user)
        .select_related("route__project", "assignee")
        .filter(pk=round_id)
        .first()
    )
    if round_ is None:
        raise NotFound()
    readings = Reading.objects.select_related("item").order_by("item__position", "pk")
    visits = list(
        PointVisit.objects.filter(round=round_)
        .select_related("checkpoint")
        .prefetch_related(Prefetch("readings", queryset=readings))
        .order_by("recorded_at", "pk")
    )
    previous = round_.started_at
    for visit in visits:
        visit.gap_seconds = (
            (visit.recorded_at - previous).total_seconds() if previous is not None else None
        )
        visit.is_abnormal = any(r.is_abnormal for r in visit.readings.all())
        previous = visit.recorded_at
    return round_, visits
