from django.contrib import admin

from frontline.jobs.models import OutboxJob


@admin.register(OutboxJob)
class OutboxJobAdmin(admin.ModelAdmin):
    """Read-only: the filters show how many jobs are pending, sent, done or failed."""

    list_display = ("pk", "task", "status", "attempts", "key", "created_at", "finished_at")
    list_filter = ("status", "task")
    show_facets = admin.ShowFacets.ALWAYS
    search_fields = ("task", "key")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
