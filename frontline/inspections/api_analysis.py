"""``GET /api/v1/inspections/analysis/``: the daily route analysis, one row per route, and
``GET /api/v1/inspections/quality-trend/``: a project's daily quality average.

Definitions: docs/inspection-analysis.md. A project the user may not see is a 404."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.inspections import access, analysis

MAX_TREND_DAYS = 366


def _only(request, allowed: set[str]) -> None:
    unknown = set(request.query_params) - allowed
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown query parameter.")] for name in unknown})


def _num():
    return serializers.FloatField(allow_null=True)


class AnalysisRowSerializer(serializers.Serializer):
    project_id = serializers.IntegerField()
    project_code = serializers.CharField()
    project_name = serializers.CharField()
    route_id = serializers.IntegerField()
    route_code = serializers.CharField()
    route_name = serializers.CharField()
    scheduled_rounds = serializers.IntegerField()
    completed_rounds = serializers.IntegerField()
    on_time_rounds = serializers.IntegerField()
    completion_rate = _num()
    on_time_rate = _num()
    points_planned = serializers.IntegerField()
    points_visited = serializers.IntegerField()
    coverage = _num()
    anomalies = serializers.IntegerField()
    anomalies_handled = serializers.IntegerField()
    handled_rate = _num()
    minutes_total = serializers.FloatField()
    minutes_per_point = _num()
    duration_cv = _num()
    quality_avg = _num()

    class Meta:
        ref_name = "InspectionAnalysisRow"


class AnalysisSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    count = serializers.IntegerField()
    results = AnalysisRowSerializer(many=True)

    class Meta:
        ref_name = "InspectionAnalysis"


class QualityDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    quality_avg = _num()
    rounds = serializers.IntegerField()

    class Meta:
        ref_name = "InspectionQualityDay"


class TrendSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    standard = serializers.IntegerField()
    days = QualityDaySerializer(many=True)

    class Meta:
        ref_name = "InspectionQualityTrend"


def _check_viewer(user) -> None:
    if not access.may_view(user):
        raise PermissionDenied()


class AnalysisApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="inspections_analysis",
        summary="Daily route analysis: one row per route",
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="first local day (default: yesterday)"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="last local day, inclusive (default: date_from); at most 366 days"),
            OpenApiParameter("project", OpenApiTypes.INT, description="only this project's routes (404 when not visible)"),
        ],
        responses={200: AnalysisSerializer},
    )  # fmt: skip
    def get(self, request):
        _check_viewer(request.user)
        _only(request, {"date_from", "date_to", "project"})
        params = request.query_params
        first, last = analysis.parse_period(params.get("date_from"), params.get("date_to"))
        project = analysis.resolve_project(request.user, params.get("project"))
        rows = analysis.route_analysis(
            user=request.user, date_from=first, date_to=last, project=project
        )
        return Response(
            {
                "date_from": first.isoformat(),
                "date_to": last.isoformat(),
                "count": len(rows),
                "results": [dict(row) for row in rows],
            }
        )


class QualityTrendApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="inspections_quality_trend",
        summary="A project's daily average quality score, with its standard line",
        parameters=[
            OpenApiParameter("project", OpenApiTypes.INT, required=True, description="the project (404 when not visible)"),
            OpenApiParameter("days", OpenApiTypes.INT, description="how many days up to today (default 30, at most 366)"),
        ],
        responses={200: TrendSerializer},
    )  # fmt: skip
    def get(self, request):
        _check_viewer(request.user)
        _only(request, {"project", "days"})
        days = _days(request.query_params.get("days"))
        if not request.query_params.get("project"):
            raise ValidationFailed(fields={"project": [_("Choose a project.")]})
        project = analysis.resolve_project(request.user, request.query_params["project"])
        series = analysis.quality_trend(user=request.user, project=project, days=days)
        standard = analysis.project_standards([project.pk])[project.pk]
        return Response(
            {
                "project": project.pk,
                "standard": standard,
                "days": [{**day, "date": day["date"].isoformat()} for day in series],
            }
        )


def _days(raw) -> int:
    if raw in (None, ""):
        return 30
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_TREND_DAYS:
        raise ValidationFailed(fields={"days": [_("Give a number of days from 1 to 366.")]})
    return days


urlpatterns = [
    path("inspections/analysis/", AnalysisApi.as_view(), name="inspections-analysis"),
    path("inspections/quality-trend/", QualityTrendApi.as_view(), name="inspections-quality-trend"),
]
