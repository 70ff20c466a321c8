"""Pages for sites, projects and assets, and the site map.

Every page reads through ``visible_to(user)`` (core.pages): another customer's
record is a 404, a record one may see but not change is a 403 on its edit page.
Lists render the whole page or, for htmx, only the results partial.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic
from django.views.decorators.http import require_GET

from frontline.accounts.roles import Cap
from frontline.core.pages import (
    ScopedDetailView,
    ScopedListView,
    ServiceDeleteView,
    ServiceFormView,
    style_form,
)
from frontline.core.rest import parse_id
from frontline.sites import filters, forms, services
from frontline.sites.models import Asset, Project, Site

MAP_LIMIT = 2000
# The same escapes as json_script: the JSON stays valid and can never close an HTML element.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


class ListPageMixin:
    """Context for sortable column headers and the filter bar of a list page."""

    filter_fields: tuple[str, ...] = ()
    search_hint = ""

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("sort", None)
        filter_fields = []
        if self.filterset is not None:
            style_form(self.filterset.form)
            filter_fields = [self.filterset.form[name] for name in self.filter_fields]
        ctx.update(
            sort_querystring=query.urlencode(),
            filter_fields=filter_fields,
            partial_template=self.partial_template_name,
            search_hint=self.search_hint,
        )
        return ctx

    def get_template_names(self):
        # A history restore asks for the whole page, even though it comes from htmx.
        if self.request.headers.get("HX-History-Restore-Request") == "true":
            return [self.template_name]
        return super().get_template_names()


class FormPageMixin:
    """Heading and breadcrumb for the shared create/edit template."""

    template_name = "sites/object_form.html"
    list_url_name = ""
    list_label = ""
    create_heading = ""
    edit_heading = ""

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            heading=self.edit_heading if self.editing else self.create_heading,
            list_url=reverse(self.list_url_name),
            list_label=self.list_label,
        )
        return ctx


# ---------------------------------------------------------------- sites


class SiteListView(ListPageMixin, ScopedListView):
    model = Site
    select_related = ("customer",)
    filterset_class = filters.SiteFilter
    filter_fields = ("customer", "is_active")
    search_fields = ("name", "address", "city", "customer__name")
    search_hint = _("Name, address, city or customer")
    sort_fields = {"name": _("Name"), "customer__name": _("Customer"), "city": _("City")}
    default_sort = "name"
    write_capability = Cap.MANAGE_SITES
    template_name = "sites/site_list.html"
    partial_template_name = "sites/partials/site_table.html"


class SiteDetailView(ScopedDetailView):
    model = Site
    select_related = ("customer",)
    write_capability = Cap.MANAGE_SITES
    template_name = "sites/site_detail.html"
    related_limit = 100

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["assets"] = list(
            Asset.objects.visible_to(user)
            .filter(site=self.object)
            .select_related("model")
            .order_by("name", "pk")[: self.related_limit]
        )
        ctx["projects"] = list(
            Project.objects.visible_to(user).filter(sites=self.object).order_by("code")
        )
        ctx["related_limit"] = self.related_limit
        ctx["can_add_asset"] = user.has_capability(Cap.MANAGE_ASSETS)
        ctx["can_add_project"] = user.has_capability(Cap.MANAGE_PROJECTS)
        return ctx


class SiteCreateView(FormPageMixin, ServiceFormView):
    model = Site
    list_url_name = "sites:site-list"
    list_label = _("Sites")
    create_heading = _("New site")
    edit_heading = _("Edit site")
    form_class = forms.SiteForm
    write_capability = Cap.MANAGE_SITES

    def perform(self, form):
        return services.create_site(actor=self.request.user, **form.cleaned_data)


class SiteEditView(SiteCreateView):
    editing = True
    form_class = forms.SiteEditForm

    def perform(self, form):
        return services.update_site(actor=self.request.user, site=self.object, **form.cleaned_data)


class SiteDeleteView(ServiceDeleteView):
    model = Site
    write_capability = Cap.MANAGE_SITES
    list_url_name = "sites:site-list"
    list_label = _("Sites")
    success_message = _("Site deleted: %(name)s.")

    def perform(self, obj):
        services.delete_site(actor=self.request.user, site=obj)


class SiteMapView(LoginRequiredMixin, generic.TemplateView):
    """Sites on a map (Leaflet, started by sites/map.js) with the same sites listed beside it."""

    template_name = "sites/site_map.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["sites"] = list(_mapped_sites(self.request.user))
        return ctx


def _mapped_sites(user):
    return (
        Site.objects.visible_to(user)
        .filter(latitude__isnull=False, longitude__isnull=False, is_active=True)
        .select_related("customer")
        .order_by("name", "pk")[:MAP_LIMIT]
    )


@require_GET
@login_required
def site_map_data(request):
    """The sites the user can see, as JSON for the map; ``<``, ``>``, ``&`` escaped like json_script."""
    rows = [
        {
            "id": site.pk,
            "name": site.name,
            "customer": site.customer.name,
            "city": site.city,
            "address": site.address,
            "lat": float(site.latitude),
            "lng": float(site.longitude),
            "url": site.get_absolute_url(),
        }
        for site in _mapped_sites(request.user)
    ]
    body = json.dumps({"sites": rows}, cls=DjangoJSONEncoder, ensure_ascii=False)
    return HttpResponse(body.translate(_JSON_ESCAPES), content_type="application/json")


# ---------------------------------------------------------------- projects


class ProjectListView(ListPageMixin, ScopedListView):
    model = Project
    select_related = ("customer",)
    filterset_class = filters.ProjectFilter
    filter_fields = ("customer", "is_active")
    search_fields = ("code", "name", "customer__name")
    search_hint = _("Code, name or customer")
    sort_fields = {
        "code": _("Code"),
        "name": _("Name"),
        "customer__name": _("Customer"),
        "contract_end": _("Contract end"),
    }
    default_sort = "code"
    write_capability = Cap.MANAGE_PROJECTS
    template_name = "sites/project_list.html"
    partial_template_name = "sites/partials/project_table.html"


class ProjectDetailView(ScopedDetailView):
    model = Project
    select_related = ("customer",)
    write_capability = Cap.MANAGE_PROJECTS
    template_name = "sites/project_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["sites"] = list(
            Site.objects.visible_to(self.request.user)
            .filter(projects=self.object)
            .order_by("name", "pk")
        )
        return ctx


class ProjectCreateView(FormPageMixin, ServiceFormView):
    model = Project
    list_url_name = "sites:project-list"
    list_label = _("Projects")
    create_heading = _("New project")
    edit_heading = _("Edit project")
    form_class = forms.ProjectForm
    write_capability = Cap.MANAGE_PROJECTS

    def get_initial(self):
        initial = super().get_initial()
        # "New project" on a site page starts with that site's customer and the site itself.
        site = None if self.editing else _preset_site(self.request)
        if site is not None:
            initial.update(customer=site.customer_id, sites=[site.pk])
        return initial

    def perform(self, form):
        return services.create_project(actor=self.request.user, **form.service_values())


class ProjectEditView(ProjectCreateView):
    editing = True
    form_class = forms.ProjectEditForm

    def perform(self, form):
        return services.update_project(
            actor=self.request.user, project=self.object, **form.service_values()
        )


class ProjectDeleteView(ServiceDeleteView):
    model = Project
    write_capability = Cap.MANAGE_PROJECTS
    list_url_name = "sites:project-list"
    list_label = _("Projects")
    success_message = _("Project deleted: %(name)s.")

    def perform(self, obj):
        services.delete_project(actor=self.request.user, project=obj)


# ---------------------------------------------------------------- assets


class AssetListView(ListPageMixin, ScopedListView):
    model = Asset
    select_related = ("site__customer", "model")
    filterset_class = filters.AssetFilter
    filter_fields = ("customer", "site", "category", "status")
    search_fields = (
        "name",
        "serial",
        "location",
        "site__name",
        "model__manufacturer",
        "model__model",
    )
    search_hint = _("Name, serial number, site or model")
    sort_fields = {
        "name": _("Name"),
        "serial": _("Serial number"),
        "site__name": _("Site"),
        "status": _("Status"),
    }
    default_sort = "name"
    write_capability = Cap.MANAGE_ASSETS
    template_name = "sites/asset_list.html"
    partial_template_name = "sites/partials/asset_table.html"


class AssetDetailView(ScopedDetailView):
    model = Asset
    select_related = ("site__customer", "model", "parent")
    write_capability = Cap.MANAGE_ASSETS
    template_name = "sites/asset_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["children"] = list(
            Asset.objects.visible_to(self.request.user)
            .filter(parent=self.object)
            .select_related("model")
            .order_by("name", "pk")
        )
        return ctx


class AssetCreateView(FormPageMixin, ServiceFormView):
    model = Asset
    list_url_name = "sites:asset-list"
    list_label = _("Assets")
    create_heading = _("New asset")
    edit_heading = _("Edit asset")
    form_class = forms.AssetForm
    write_capability = Cap.MANAGE_ASSETS

    def get_initial(self):
        initial = super().get_initial()
        site = None if self.editing else _preset_site(self.request)
        if site is not None:
            initial["site"] = site.pk
        return initial

    def perform(self, form):
        return services.create_asset(actor=self.request.user, **form.cleaned_data)


class AssetEditView(AssetCreateView):
    editing = True

    def perform(self, form):
        return services.update_asset(
            actor=self.request.user, asset=self.object, **form.cleaned_data
        )


class AssetDeleteView(ServiceDeleteView):
    model = Asset
    write_capability = Cap.MANAGE_ASSETS
    list_url_name = "sites:asset-list"
    list_label = _("Assets")
    success_message = _("Asset deleted: %(name)s.")

    def perform(self, obj):
        services.delete_asset(actor=self.request.user, asset=obj)


def _preset_site(request) -> Site | None:
    """The site named by ``?site=`` when the user can see it (to prefill a form)."""
    pk = parse_id(request.GET.get("site", ""))
    return filters.sites(request).filter(pk=pk).first() if pk else None
