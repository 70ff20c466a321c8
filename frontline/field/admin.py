"""Admin for field service: work orders, their timelines and engineers are read-only here.

Work orders, offers, links, surveys, engineer profiles, certifications, shifts, leave and
dispatch rules change only through the field services (pages, API), which check the
transition table, keep the timeline and audit; the admin shows them. The checklist
templates are reference data that no service owns, edited here.
"""

from django.contrib import admin

from frontline.desk.admin import ReadOnlyAdmin, ReadOnlyInline
from frontline.field.models import (
    Certification,
    ChecklistItem,
    ChecklistTemplate,
    DispatchRule,
    EngineerProfile,
    GrabOffer,
    Leave,
    PositionPing,
    PublicLink,
    Shift,
    Survey,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderPhoto,
    WorkOrderSkill,
)


class WorkOrderEventInline(ReadOnlyInline):
    model = WorkOrderEvent
    fields = ("created_at", "kind", "public", "author", "body", "latitude", "longitude")
    readonly_fields = fields


class WorkOrderSkillInline(ReadOnlyInline):
    model = WorkOrderSkill
    fields = ("skill", "min_level")
    readonly_fields = fields
    show_change_link = False


class ChecklistItemInline(ReadOnlyInline):
    model = ChecklistItem
    fields = ("position", "label", "result", "note", "checked_by", "checked_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "customer", "site", "priority", "status", "assignee",
                    "partner", "window_start", "created_at")  # fmt: skip
    list_filter = ("status", "priority", "type", "dispatched_via", "check_in_flagged")
    list_select_related = ("customer", "site", "assignee", "partner")
    search_fields = ("number", "title", "customer__name", "site__name")
    date_hierarchy = "created_at"
    raw_id_fields = ("ticket", "customer", "project", "site", "asset", "team", "assignee",
                     "partner", "revisit_of", "created_by")  # fmt: skip
    inlines = [WorkOrderSkillInline, ChecklistItemInline, WorkOrderEventInline]


@admin.register(WorkOrderEvent)
class WorkOrderEventAdmin(ReadOnlyAdmin):
    list_display = ("work_order", "kind", "public", "author", "created_at")
    list_filter = ("kind", "public")
    list_select_related = ("work_order", "author")
    search_fields = ("work_order__number",)


@admin.register(WorkOrderPhoto)
class WorkOrderPhotoAdmin(ReadOnlyAdmin):
    list_display = ("name", "work_order", "content_type", "size", "uploaded_by", "created_at")
    list_select_related = ("work_order", "uploaded_by")
    search_fields = ("name", "work_order__number")


@admin.register(GrabOffer)
class GrabOfferAdmin(ReadOnlyAdmin):
    list_display = ("work_order", "status", "radius_km", "expires_at", "claimed_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("work_order", "claimed_by")


@admin.register(PublicLink)
class PublicLinkAdmin(ReadOnlyAdmin):
    # The token itself is never stored; only its hash, which is not shown either.
    list_display = ("work_order", "purpose", "expires_at", "revoked_at", "created_at")
    exclude = ("token_hash",)
    list_filter = ("purpose",)
    list_select_related = ("work_order",)


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ("work_order", "engineer", "csat", "nps", "submitted_at")
    list_select_related = ("work_order", "engineer")
    search_fields = ("work_order__number",)


@admin.register(EngineerProfile)
class EngineerProfileAdmin(ReadOnlyAdmin):
    list_display = ("user", "region", "is_active", "daily_capacity_minutes", "last_position_at")
    list_filter = ("is_active", "region", "works_weekends")
    list_select_related = ("user",)
    search_fields = ("user__display_name", "user__email", "region")


@admin.register(Certification)
class CertificationAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "skill", "issued_on", "expires_on")
    list_select_related = ("user", "skill")
    search_fields = ("name", "number", "user__display_name", "user__email")


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    list_display = ("user", "date", "start", "end")
    list_select_related = ("user",)
    date_hierarchy = "date"


@admin.register(Leave)
class LeaveAdmin(ReadOnlyAdmin):
    list_display = ("user", "first_day", "last_day", "reason")
    list_select_related = ("user",)


@admin.register(PositionPing)
class PositionPingAdmin(ReadOnlyAdmin):
    list_display = ("user", "latitude", "longitude", "accuracy_m", "recorded_at")
    list_select_related = ("user",)


@admin.register(DispatchRule)
class DispatchRuleAdmin(ReadOnlyAdmin):
    list_display = ("position", "name", "is_active", "mode", "team", "partner")
    list_filter = ("is_active", "mode")
    list_select_related = ("team", "partner")


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ("type",)
