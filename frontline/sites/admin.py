"""Admin: a read-only view of sites, projects and equipment.

Changes go through the pages and the API, which call ``sites.services`` so that every
change is validated the same way and audited; the admin never saves these rows itself.
"""

from django.contrib import admin

from frontline.sites.models import Asset, AssetModel, Project, Site


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ("name", "customer", "city", "latitude", "longitude", "is_active")
    list_filter = ("is_active", "customer")
    list_select_related = ("customer",)
    search_fields = ("name", "address", "city", "customer__name")


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "customer", "contract_start", "contract_end", "is_active")
    list_filter = ("is_active", "customer")
    list_select_related = ("customer",)
    search_fields = ("code", "name", "customer__name")


@admin.register(AssetModel)
class AssetModelAdmin(ReadOnlyAdmin):
    list_display = ("manufacturer", "model", "category")
    list_filter = ("category",)
    search_fields = ("manufacturer", "model")


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    list_display = ("name", "serial", "model", "site", "status")
    list_filter = ("status", "model__category")
    list_select_related = ("site", "model")
    search_fields = ("name", "serial", "site__name", "model__model")
