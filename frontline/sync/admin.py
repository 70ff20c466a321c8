"""Synced actions are a record of what phones sent and what the server decided: read-only."""

from django.contrib import admin

from frontline.desk.admin import ReadOnlyAdmin
from frontline.sync.models import SyncAction, SyncUpload


@admin.register(SyncAction)
class SyncActionAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "user", "device_id", "kind", "target_type", "target_id",
                    "status", "device_at", "clock_flagged")  # fmt: skip
    list_filter = ("status", "kind", "target_type", "clock_flagged")
    search_fields = ("device_id", "client_id")
    list_select_related = ("user",)


@admin.register(SyncUpload)
class SyncUploadAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "purpose", "client_id", "size", "offset", "status",
                    "device_at")  # fmt: skip
    list_filter = ("status", "purpose")
    search_fields = ("client_id",)
    list_select_related = ("user",)
