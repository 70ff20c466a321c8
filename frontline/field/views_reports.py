"""The field-service report page and its Excel export."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views import generic

from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.field import reports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FieldReportView(LoginRequiredMixin, generic.View):
    template_name = "field/reports/field_report.html"

    def _report(self, request):
        try:
            reports.check_access(request.user)
        except PermissionDenied:
            raise DjangoPermissionDenied
        start, end = reports.parse_period(
            request.GET.get("start"), request.GET.get("end"), today=timezone.localdate()
        )
        return reports.build(user=request.user, start=start, end=end)

    def get(self, request):
        try:
            report = self._report(request)
        except ValidationFailed as exc:
            errors = [m for messages in exc.fields.values() for m in messages] or [exc.message]
            return render(request, self.template_name, {"errors": errors}, status=400)
        return render(request, self.template_name, {"report": report})


class FieldReportXlsxView(FieldReportView):
    def get(self, request):
        try:
            report = self._report(request)
        except ValidationFailed as exc:
            return HttpResponse(str(exc.message), status=400, content_type="text/plain")
        response = HttpResponse(reports.to_xlsx(report), content_type=XLSX)
        name = f"field-report-{report.start:%Y%m%d}-{report.end:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


urlpatterns = [
    path("reports/field-service/", FieldReportView.as_view(), name="report"),
    path("reports/field-service/xlsx/", FieldReportXlsxView.as_view(), name="report-xlsx"),
]
