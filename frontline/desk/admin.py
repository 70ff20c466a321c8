"""Admin for the desk: tickets and their history are read-only here.

Tickets, events, attachments, hand-offs, fire calls, briefs, retrospectives and problems
change only through the desk services (pages, API), which check the rules, keep the
timeline and recompute the SLA; the admin shows them. Reference data that no service
owns (severity levels, categories, tags, business calendars) is edited here; SLA
policies are changed on the SLA pages so that open tickets are recomputed.
"""

from django.contrib import admin

from frontline.desk.models import (
    Attachment,
    BugBrief,
    BusinessCalendar,
    Category,
    ClosedDay,
    FireCall,
    HandOff,
    Problem,
    Retrospective,
    SeverityLevel,
    SlaPolicy,
    Tag,
    Ticket,
    TicketEvent,
    WorkingPeriod,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ("created_at", "kind", "public", "author", "body")
    readonly_fields = fields


class HandOffInline(ReadOnlyInline):
    model = HandOff
    fk_name = "ticket"
    fields = ("created_at", "from_user", "to_user", "status", "decided_at")
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "customer", "severity", "status", "owner", "sla_state",
                    "created_at")  # fmt: skip
    list_filter = ("status", "severity", "channel", "tier", "sla_state")
    list_select_related = ("customer", "owner")
    search_fields = ("number", "title", "external_ref", "customer__name")
    date_hierarchy = "created_at"
    raw_id_fields = ("contact", "owner", "created_by", "project", "site", "asset", "problem")
    inlines = [EventInline, HandOffInline]


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "kind", "public", "author", "created_at")
    list_filter = ("kind", "public")
    list_select_related = ("ticket", "author")
    search_fields = ("ticket__number",)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "ticket", "content_type", "size", "public", "created_at")
    list_filter = ("content_type", "public")
    list_select_related = ("ticket",)
    search_fields = ("name", "ticket__number", "sha256")


@admin.register(HandOff)
class HandOffAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "from_user", "to_user", "status", "created_at", "decided_at")
    list_filter = ("status",)
    list_select_related = ("ticket", "from_user", "to_user")


@admin.register(FireCall)
class FireCallAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "level", "called_by", "created_at", "closed_at")
    list_filter = ("level",)
    list_select_related = ("ticket", "called_by")


@admin.register(BugBrief)
class BugBriefAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "author", "updated_at")
    list_select_related = ("ticket", "author")


@admin.register(Retrospective)
class RetrospectiveAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "attribution", "author", "updated_at")
    list_filter = ("attribution",)
    list_select_related = ("ticket", "author")


@admin.register(Problem)
class ProblemAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "status", "attribution", "fix_owner", "fix_due_on")
    list_filter = ("status", "attribution")
    search_fields = ("number", "title")


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ReadOnlyAdmin):
    list_display = ("project", "severity", "calendar", "first_response_minutes",
                    "resolution_minutes", "warning_percent")  # fmt: skip
    list_filter = ("severity",)
    list_select_related = ("project", "calendar")


@admin.register(SeverityLevel)
class SeverityLevelAdmin(admin.ModelAdmin):
    list_display = ("severity", "name", "customer_may_choose")
    filter_horizontal = ("summon_teams", "summon_users")


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    extra = 0


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "is_24x7", "use_china_holidays")
    inlines = [WorkingPeriodInline, ClosedDayInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)
