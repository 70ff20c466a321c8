"""Admin for plan runs: read-only (runs are started, reviewed and applied on the pages/API)."""

from django.contrib import admin

from frontline.desk.admin import ReadOnlyAdmin, ReadOnlyInline
from frontline.dispatch.models import PlanAssignment, PlanRun


class PlanAssignmentInline(ReadOnlyInline):
    model = PlanAssignment
    fields = ("engineer", "sequence", "work_order", "arrival", "start", "end")
    readonly_fields = fields
    show_change_link = False


@admin.register(PlanRun)
class PlanRunAdmin(ReadOnlyAdmin):
    list_display = ("day", "team", "status", "progress", "created_by", "created_at", "applied_at")
    list_filter = ("status",)
    list_select_related = ("team", "created_by")
    date_hierarchy = "day"
    exclude = ("problem",)
    inlines = [PlanAssignmentInline]


@admin.register(PlanAssignment)
class PlanAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("plan", "engineer", "sequence", "work_order", "arrival")
    list_select_related = ("plan", "engineer", "work_order")
