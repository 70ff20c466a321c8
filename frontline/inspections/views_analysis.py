"""The daily route analysis pages (project → route → round → point visits), its Excel
export and the quality report with its trend charts. Figures: inspections/analysis.py."""

from __future__ import annotations

from html import escape

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.core.errors import NotFound, ValidationFailed
from frontline.core.rest import parse_id
from frontline.desk.exports import XLSX_CONTENT_TYPE, Sheet, xlsx_bytes
from frontline.inspections import access, analysis
from frontline.inspections.models.scoping import is_inspection_staff

# Where a rate with no SOP KPI of its own is coloured as below standard (0–1).
DEFAULT_RATE_STANDARDS = {
    "completion_rate": 0.95,
    "on_time_rate": 0.90,
    "coverage": 0.95,
    "handled_rate": 0.90,
}
PERCENT = {
    "completion_rate",
    "on_time_rate",
    "coverage",
    "handled_rate",
    "duration_cv",
    "first_time_fix_rate",
}
COLUMNS = [
    ("scheduled_rounds", _("Scheduled")),
    ("completed_rounds", _("Completed")),
    ("on_time_rounds", _("On time")),
    ("completion_rate", _("Completion")),
    ("on_time_rate", _("On-time rate")),
    ("points_planned", _("Points planned")),
    ("points_visited", _("Points visited")),
    ("coverage", _("Coverage")),
    ("anomalies", _("Anomalies")),
    ("anomalies_handled", _("Handled")),
    ("handled_rate", _("Handled rate")),
    ("minutes_total", _("Minutes")),
    ("minutes_per_point", _("Min / point")),
    ("duration_cv", _("Duration CV")),
    ("quality_avg", _("Quality")),
]


def show(metric: str, value) -> str:
    if value is None:
        return "—"
    if metric in PERCENT:
        return f"{float(value) * 100:.1f} %"
    if isinstance(value, float):
        return f"{value:.2f}" if metric == "minutes_per_point" else f"{value:.1f}"
    return str(value)


def round_detail_url(pk: int) -> str | None:
    """The round page of the rounds helper, when it is wired."""
    try:
        return reverse("inspections:round-detail", args=[pk])
    except NoReverseMatch:
        return None


def _below(metric: str, value, kpis: list[dict], standard: int) -> bool:
    """Whether ``value`` misses the route's SOP KPI for ``metric`` or else the default."""
    if value is None:
        return False
    judged = [k["met"] for k in kpis if k["kpi"].metric == metric]
    if judged:
        return not all(judged)
    if metric == "quality_avg":
        return value < standard
    threshold = DEFAULT_RATE_STANDARDS.get(metric)
    return threshold is not None and value < threshold


def cells(row: dict, kpis: list[dict], standard: int) -> str:
    """The row's figure cells as HTML, built here rather than by fifteen template nodes
    per row (the page lists up to thousands of routes). Keys are constants and the texts
    numbers; they are escaped all the same."""
    parts = []
    for key, _label in COLUMNS:
        value = row[key]
        text = escape(show(key, value))
        if _below(key, value, kpis, standard):
            parts.append(
                f'<td class="text-end text-danger fw-semibold" data-field="{key}"'
                f' data-below="1">{text}</td>'
            )
        else:
            parts.append(f'<td class="text-end" data-field="{key}">{text}</td>')
    return mark_safe("".join(parts))  # noqa: S308 (escaped above)


class ViewerMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not access.may_view(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)


class AnalysisView(ViewerMixin, generic.View):
    template_name = "inspections/analysis_report.html"

    def params(self, request):
        first, last = analysis.parse_period(
            request.GET.get("date_from"), request.GET.get("date_to")
        )
        try:
            project = analysis.resolve_project(request.user, request.GET.get("project"))
        except NotFound:
            raise ValidationFailed(fields={"project": [_("No such project.")]})
        return first, last, project

    def get(self, request):
        projects = list(analysis.visible_projects(request.user).only("pk", "code", "name"))
        base = {"projects": projects, "columns": [label for _k, label in COLUMNS]}
        try:
            first, last, project = self.params(request)
        except ValidationFailed as exc:
            errors = [m for messages in exc.fields.values() for m in messages] or [exc.message]
            form = {"date_from": request.GET.get("date_from", ""), "date_to": request.GET.get("date_to", "")}  # fmt: skip
            return render(request, self.template_name, {**base, "errors": errors, "form": form}, status=400)  # fmt: skip
        rows = analysis.route_analysis(
            user=request.user, date_from=first, date_to=last, project=project
        )
        kpis = analysis.kpis_by_route(user=request.user, rows=rows)
        standards = analysis.standards_by_route(r["route_id"] for r in rows)
        groups = analysis.project_rollup(rows)
        for group in groups:
            group["cells"] = cells(group, [], analysis.DEFAULT_STANDARD)
            for row in group["routes"]:
                row.kpis = kpis.get(row["route_id"], [])
                row.cells = cells(row, row.kpis, standards.get(row["route_id"], 80))
                row.kpi_list = [
                    {**k, "actual_text": show(k["kpi"].metric, k["actual"])} for k in row.kpis
                ]
                row.kpi_met = sum(1 for k in row.kpis if k["met"] is True)
                row.kpi_missed = sum(1 for k in row.kpis if k["met"] is False)
        query = f"date_from={first:%Y-%m-%d}&date_to={last:%Y-%m-%d}"
        ctx = {
            **base,
            "groups": groups,
            "form": {"date_from": f"{first:%Y-%m-%d}", "date_to": f"{last:%Y-%m-%d}"},
            "project": project,
            "query": query,
            "export_query": query + (f"&project={project.pk}" if project else ""),
        }
        return render(request, self.template_name, ctx)


class AnalysisExportView(AnalysisView):
    def get(self, request):
        try:
            first, last, project = self.params(request)
        except ValidationFailed as exc:
            return HttpResponse(str(exc.message), status=400, content_type="text/plain")
        rows = analysis.route_analysis(
            user=request.user, date_from=first, date_to=last, project=project
        )
        kpis = analysis.kpis_by_route(user=request.user, rows=rows)
        content = xlsx_bytes(workbook(rows, kpis, first, last))
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
        name = f"route-analysis-{first:%Y%m%d}-{last:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def workbook(rows, kpis, first, last) -> list[Sheet]:
    """Projects, routes and SOP KPIs; rates as fractions (format them as % in Excel)."""
    header = [gettext("Project code"), gettext("Project")]
    fields = [key for key, _label in COLUMNS]
    projects = Sheet(gettext("Projects"), [*header, *fields])
    for group in analysis.project_rollup(rows):
        projects.add([group["project_code"], group["project_name"], *(group[k] for k in fields)])
    routes = Sheet(gettext("Routes"), [*header, gettext("Route code"), gettext("Route"), *fields])
    for r in rows:
        routes.add([r["project_code"], r["project_name"], r["route_code"], r["route_name"],
                    *(r[k] for k in fields)])  # fmt: skip
    targets = Sheet(
        gettext("SOP KPIs"),
        [gettext("Route code"), gettext("Route"), gettext("SOP"), gettext("Metric"),
         gettext("Comparator"), gettext("Target"), gettext("Actual"), gettext("Met")],
    )  # fmt: skip
    for r in rows:
        for k in kpis.get(r["route_id"], []):
            kpi = k["kpi"]
            met = "" if k["met"] is None else gettext("yes") if k["met"] else gettext("no")
            targets.add([r["route_code"], r["route_name"], str(kpi.version),
                         kpi.get_metric_display(), kpi.get_comparator_display(), kpi.target,
                         k["actual"], met])  # fmt: skip
    period = Sheet(gettext("Period"), [gettext("From"), gettext("To")])
    period.add([first, last])
    return [projects, routes, targets, period]


class RouteRoundsView(AnalysisView):
    template_name = "inspections/analysis_route.html"

    def get(self, request, pk):
        route_id = parse_id(pk)
        if route_id is None:
            raise Http404
        try:
            route = analysis.visible_route(user=request.user, route_id=route_id)
        except NotFound:
            raise Http404
        try:
            first, last, _project = self.params(request)
        except ValidationFailed as exc:
            return HttpResponse(str(exc.message), status=400, content_type="text/plain")
        rounds = analysis.route_rounds(
            user=request.user, route=route, date_from=first, date_to=last
        )
        for r in rounds:
            r.detail_url = round_detail_url(r.pk)
            r.minutes = (
                round((r.finished_at - r.started_at).total_seconds() / 60, 1)
                if r.started_at and r.finished_at
                else None
            )
            r.counted = r.status != "cancelled"
        ctx = {"route": route, "rounds": rounds, "first": first, "last": last,
               "query": f"date_from={first:%Y-%m-%d}&date_to={last:%Y-%m-%d}"}  # fmt: skip
        return render(request, self.template_name, ctx)


class RoundVisitsView(ViewerMixin, generic.View):
    template_name = "inspections/analysis_round.html"

    def get(self, request, pk):
        round_id = parse_id(pk)
        if round_id is None:
            raise Http404
        try:
            round_, visits = analysis.round_visits(user=request.user, round_id=round_id)
        except NotFound:
            raise Http404
        day = f"{timezone.localtime(round_.window_start):%Y-%m-%d}"
        ctx = {"round": round_, "visits": visits, "detail_url": round_detail_url(round_.pk),
               "query": f"date_from={day}&date_to={day}"}  # fmt: skip
        return render(request, self.template_name, ctx)


class QualityView(ViewerMixin, generic.View):
    template_name = "inspections/quality_report.html"
    days = 30

    def get(self, request):
        user = request.user
        projects = list(analysis.visible_projects(user).filter(routes__is_active=True).distinct())
        chosen = request.GET.get("project")
        if chosen:
            projects = [p for p in projects if str(p.pk) == chosen]
        ids = [p.pk for p in projects]
        trends = analysis.quality_trends(user=user, projects=ids, days=self.days)
        standards = analysis.project_standards(ids)
        charts = [
            {
                "id": p.pk,
                "title": f"{p.code} {p.name}",
                "standard": standards[p.pk],
                "dates": [f"{d['date']:%m-%d}" for d in trends[p.pk]],
                "values": [d["quality_avg"] for d in trends[p.pk]],
                "rounds": [d["rounds"] for d in trends[p.pk]],
            }
            for p in projects
        ]
        lowest = []
        if is_inspection_staff(user):
            lowest = analysis.lowest_rounds(user=user, projects=ids, days=self.days)
            for r in lowest:
                r.detail_url = round_detail_url(r.pk)
        ctx = {
            "charts": charts,
            "chart_data": {
                "charts": charts,
                "label": gettext("Average quality"),
                "standard_label": gettext("Standard"),
            },  # fmt: skip
            "lowest": lowest,
            "show_lowest": is_inspection_staff(user),
            "days": self.days,
            "all_projects": analysis.visible_projects(user).only("pk", "code", "name"),
            "chosen": chosen or "",
        }
        return render(request, self.template_name, ctx)


urlpatterns = [
    path("analysis/", AnalysisView.as_view(), name="analysis"),
    path("analysis/export/", AnalysisExportView.as_view(), name="analysis-export"),
    path("analysis/routes/<str:pk>/", RouteRoundsView.as_view(), name="analysis-route"),
    path("analysis/rounds/<str:pk>/", RoundVisitsView.as_view(), name="analysis-round"),
    path("quality/", QualityView.as_view(), name="quality"),
]
