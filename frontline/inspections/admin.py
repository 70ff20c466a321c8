"""Admin for inspections: everything is read-only here.

Routes, checkpoints, items, schedules, SOPs and quality schemes change through the route
pages and imports; rounds, visits, readings and anomalies only through the services
(``rounds``, ``anomalies``, ``quality``), which check the transition tables, keep the
counters and audit. The admin shows them for support.
"""

from django.contrib import admin

from frontline.desk.admin import ReadOnlyAdmin, ReadOnlyInline
from frontline.inspections.models import (
    Anomaly,
    CheckItem,
    Checkpoint,
    PointVisit,
    QualityScheme,
    Reading,
    Round,
    Route,
    Schedule,
    Sop,
    SopKpi,
    SopVersion,
)


class CheckpointInline(ReadOnlyInline):
    model = Checkpoint
    fields = ("position", "code", "name", "location", "asset", "is_active")
    readonly_fields = fields


class CheckItemInline(ReadOnlyInline):
    model = CheckItem
    fields = ("position", "name", "kind", "unit", "normal_min", "normal_max", "required",
              "photo_required", "is_active")  # fmt: skip
    readonly_fields = fields
    show_change_link = False


class ScheduleInline(ReadOnlyInline):
    model = Schedule
    fields = ("kind", "times", "weekdays", "every_hours", "window_minutes", "team", "engineer",
              "offer_for_grab", "starts_on", "ends_on", "is_active", "generated_until")  # fmt: skip
    readonly_fields = fields


class VisitInline(ReadOnlyInline):
    model = PointVisit
    fields = ("checkpoint", "status", "skip_reason", "scanned", "started_at", "recorded_at",
              "received_at", "by")  # fmt: skip
    readonly_fields = fields


class ReadingInline(ReadOnlyInline):
    model = Reading
    fields = ("item", "number", "answer", "text", "photo", "is_abnormal")
    readonly_fields = fields
    show_change_link = False


class SopKpiInline(ReadOnlyInline):
    model = SopKpi
    fields = ("kind", "metric", "comparator", "target")
    readonly_fields = fields
    show_change_link = False


@admin.register(Route)
class RouteAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "project", "site", "anomaly_action", "is_active")
    list_filter = ("is_active", "anomaly_action")
    list_select_related = ("project", "site")
    search_fields = ("code", "name", "project__name", "site__name")
    inlines = [CheckpointInline, ScheduleInline]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "route", "location", "is_active")
    list_select_related = ("route",)
    search_fields = ("code", "name", "route__code")
    inlines = [CheckItemInline]


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyAdmin):
    list_display = ("route", "kind", "window_minutes", "offer_for_grab", "is_active",
                    "generated_until")  # fmt: skip
    list_filter = ("kind", "is_active", "offer_for_grab")
    list_select_related = ("route",)


@admin.register(QualityScheme)
class QualitySchemeAdmin(ReadOnlyAdmin):
    list_display = ("name", "coverage_weight", "timeliness_weight", "anomalies_weight",
                    "pace_weight", "photos_weight", "min_seconds_per_point", "standard")  # fmt: skip


@admin.register(Sop)
class SopAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "work_order_type", "is_active")
    search_fields = ("code", "title")


@admin.register(SopVersion)
class SopVersionAdmin(ReadOnlyAdmin):
    list_display = ("sop", "number", "effective_from", "created_by")
    list_select_related = ("sop", "created_by")
    inlines = [SopKpiInline]


@admin.register(Round)
class RoundAdmin(ReadOnlyAdmin):
    list_display = ("route", "window_start", "status", "assignee", "points_planned",
                    "points_visited", "points_skipped", "quality_score")  # fmt: skip
    list_filter = ("status", "offered")
    list_select_related = ("route", "assignee")
    search_fields = ("route__code", "route__name")
    date_hierarchy = "window_start"
    raw_id_fields = ("route", "schedule", "project", "customer", "team", "assignee",
                     "quality_adjusted_by")  # fmt: skip
    inlines = [VisitInline]


@admin.register(PointVisit)
class PointVisitAdmin(ReadOnlyAdmin):
    list_display = ("round", "checkpoint", "status", "recorded_at", "received_at", "by")
    list_filter = ("status",)
    list_select_related = ("round__route", "checkpoint", "by")
    raw_id_fields = ("round", "checkpoint", "by")
    inlines = [ReadingInline]


@admin.register(Anomaly)
class AnomalyAdmin(ReadOnlyAdmin):
    list_display = ("checkpoint", "item", "source", "status", "priority", "occurrences",
                    "raised_at", "work_order", "ticket")  # fmt: skip
    list_filter = ("status", "source", "priority")
    list_select_related = ("checkpoint", "item", "work_order", "ticket")
    search_fields = ("checkpoint__code", "description")
    date_hierarchy = "raised_at"
    raw_id_fields = ("route", "project", "customer", "checkpoint", "item", "round", "visit",
                     "raised_by", "confirmed_by", "handled_by", "work_order", "ticket")  # fmt: skip
