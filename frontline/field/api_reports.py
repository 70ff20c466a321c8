"""``GET /api/v1/reports/field-service/?start=&end=``: the field-service report as JSON."""

from __future__ import annotations

from dataclasses import asdict

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from frontline.core.errors import ValidationFailed
from frontline.field import reports


class FieldReportApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="field_service_report",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="first day (default: 30 days ago)"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="last day, inclusive (default: today)"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )  # fmt: skip
    def get(self, request):
        unknown = set(request.query_params) - {"start", "end"}
        if unknown:
            raise ValidationFailed(
                fields={name: [_("Unknown query parameter.")] for name in unknown}
            )
        start, end = reports.parse_period(
            request.query_params.get("start"),
            request.query_params.get("end"),
            today=timezone.localdate(),
        )
        report = reports.build(user=request.user, start=start, end=end)
        return Response(asdict(report))


urlpatterns = [
    path("reports/field-service/", FieldReportApi.as_view(), name="field-report"),
]
