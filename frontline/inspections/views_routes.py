"""Route configuration pages: routes with their checkpoints, items and schedules, the QR
sheet, SOPs with versions and KPIs, quality schemes and the Excel import.

Route pages read through ``visible_to(user)``: operator staff see every project's, a
customer its own (read-only, without QR values); anyone else gets a 404. SOP and
scheme pages are for operator staff. Every change is a POST to a form that calls one
service in :mod:`frontline.inspections.config`; its field errors come back into the
form and nothing is half-saved; only ``Cap.MANAGE_ROUTES`` may change (else 403).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Prefetch, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.core.errors import DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.pages import ScopedDetailView, ScopedListView, style_form
from frontline.core.rest import parse_id
from frontline.desk.exports import XLSX_CONTENT_TYPE
from frontline.desk.views_actions import apply_error
from frontline.inspections import access, config, forms, imports, qr, sop_actuals, sops
from frontline.inspections.models import (
    CheckItem,
    Checkpoint,
    QualityScheme,
    Route,
    Schedule,
    Sop,
    SopVersion,
)
from frontline.inspections.views_analysis import show

# ---------------------------------------------------------------- access


class ReaderMixin(LoginRequiredMixin):
    """Whoever may see inspections (in scope); anyone else signed in gets a 404."""

    staff_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not self.allowed(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def allowed(self, user) -> bool:
        return access.is_inspection_staff(user) if self.staff_only else access.may_view(user)

    def can_write(self, obj=None) -> bool:
        return access.may_manage_routes(self.request.user)


def _scoped(model, user, pk):
    found = model.objects.visible_to(user).filter(pk=parse_id(pk) or 0).first()
    if found is None:
        raise Http404
    return found


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---------------------------------------------------------------- routes


class RouteListView(ReaderMixin, ScopedListView):
    model = Route
    select_related = ("project", "site", "sop_version__sop")
    filterset_class = forms.RouteFilter
    search_fields = ("code", "name", "site__name")
    sort_fields = {"code": _("Code"), "name": _("Name"), "project__code": _("Project")}
    default_sort = "project__code"
    template_name = "inspections/routes_list.html"
    partial_template_name = "inspections/partials/routes_table.html"

    def get_queryset(self):
        active = Q(checkpoints__is_active=True)
        return super().get_queryset().annotate(points=Count("checkpoints", filter=active))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if self.filterset is not None:
            style_form(self.filterset.form)
        ctx.update(
            partial_template=self.partial_template_name,
            internal=access.is_inspection_staff(self.request.user),
        )
        return ctx


class RouteDetailView(ReaderMixin, ScopedDetailView):
    model = Route
    select_related = ("project", "site", "sop_version__sop", "quality_scheme", "anomaly_team")
    template_name = "inspections/routes_detail.html"

    def get_queryset(self):
        items = CheckItem.objects.order_by("position", "id")
        points = (
            Checkpoint.objects.select_related("asset")
            .prefetch_related(Prefetch("items", queryset=items))
            .order_by("position", "id")
        )
        schedules = Schedule.objects.select_related("team", "engineer").order_by("id")
        return (
            super()
            .get_queryset()
            .prefetch_related(
                Prefetch("checkpoints", queryset=points),
                Prefetch("schedules", queryset=schedules),
                "sop_version__kpis",
            )
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        checkpoints = list(self.object.checkpoints.all())
        ctx.update(
            checkpoints=checkpoints,
            schedules=list(self.object.schedules.all()),
            internal=access.is_inspection_staff(self.request.user),
            last_position=len(checkpoints),
        )
        return ctx


class ConfigFormView(ReaderMixin, generic.FormView):
    """A form whose ``perform`` calls one config service. ``parent_model`` is the object in
    the URL (the route a checkpoint is added to, the checkpoint being edited, …)."""

    template_name = "inspections/routes_form.html"
    parent_model: type | None = None
    editing = False
    title = ""
    success_message = _("Saved.")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.parent = None
        if self.parent_model is not None:
            self.parent = _scoped(self.parent_model, request.user, kwargs.get("pk"))
        if self.allowed(request.user) and not self.can_write(self.parent):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        if self.editing:
            kwargs["instance"] = self.parent
        else:
            kwargs["parent"] = self.parent
        return kwargs

    def form_valid(self, form):
        try:
            obj = self.perform(form)
        except DomainPermissionDenied:
            raise PermissionDenied
        except NotFound:
            raise Http404
        except DomainError as exc:
            apply_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return HttpResponseRedirect(self.success_url_for(obj))

    def success_url_for(self, obj) -> str:
        return obj.get_absolute_url()

    def route(self) -> Route | None:
        return None

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(title=self.title, route=self.route(), cancel_url=self.cancel_url())
        return ctx

    def cancel_url(self) -> str:
        route = self.route()
        return route.get_absolute_url() if route else reverse("inspections:route-list")

    def perform(self, form):  # pragma: no cover - abstract
        raise NotImplementedError


class RouteCreateView(ConfigFormView):
    form_class = forms.RouteForm
    title = _("New route")

    def perform(self, form):
        return config.create_route(actor=self.request.user, **form.data_for_service())


class RouteEditView(ConfigFormView):
    form_class = forms.RouteForm
    parent_model = Route
    editing = True
    title = _("Edit route")

    def route(self):
        return self.parent

    def perform(self, form):
        return config.update_route(
            actor=self.request.user, route=self.parent, **form.data_for_service()
        )


class CheckpointCreateView(ConfigFormView):
    form_class = forms.CheckpointForm
    parent_model = Route
    title = _("New checkpoint")

    def route(self):
        return self.parent

    def perform(self, form):
        config.add_checkpoint(actor=self.request.user, route=self.parent, **form.data_for_service())
        return self.parent


class CheckpointEditView(ConfigFormView):
    form_class = forms.CheckpointForm
    parent_model = Checkpoint
    editing = True
    title = _("Edit checkpoint")

    def route(self):
        return self.parent.route

    def perform(self, form):
        data = form.data_for_service()
        config.update_checkpoint(actor=self.request.user, checkpoint=self.parent, **data)
        return self.parent.route


class ItemCreateView(ConfigFormView):
    form_class = forms.CheckItemForm
    parent_model = Checkpoint
    title = _("New check item")

    def route(self):
        return self.parent.route

    def perform(self, form):
        data = form.data_for_service()
        config.add_check_item(actor=self.request.user, checkpoint=self.parent, **data)
        return self.parent.route


class ItemEditView(ConfigFormView):
    form_class = forms.CheckItemForm
    parent_model = CheckItem
    editing = True
    title = _("Edit check item")

    def route(self):
        return self.parent.checkpoint.route

    def perform(self, form):
        config.update_check_item(
            actor=self.request.user, item=self.parent, **form.data_for_service()
        )
        return self.route()


class ScheduleCreateView(ConfigFormView):
    form_class = forms.ScheduleForm
    parent_model = Route
    title = _("New schedule")

    def route(self):
        return self.parent

    def perform(self, form):
        config.create_schedule(
            actor=self.request.user, route=self.parent, **form.data_for_service()
        )
        return self.parent


class ScheduleEditView(ConfigFormView):
    form_class = forms.ScheduleForm
    parent_model = Schedule
    editing = True
    title = _("Edit schedule")

    def route(self):
        return self.parent.route

    def perform(self, form):
        data = form.data_for_service()
        config.update_schedule(actor=self.request.user, schedule=self.parent, **data)
        return self.parent.route


class ConfigActionView(ReaderMixin, generic.View):
    """A POST button that calls one service on the object in the URL, then goes back."""

    http_method_names = ["post"]
    model: type = Route

    def post(self, request, pk):
        obj = _scoped(self.model, request.user, pk)
        if not self.can_write(obj):
            raise PermissionDenied
        try:
            message = self.perform(obj)
        except DomainPermissionDenied:
            raise PermissionDenied
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, message)
        return HttpResponseRedirect(self.back(obj))

    def back(self, obj) -> str:
        return obj.get_absolute_url()


class RouteActiveView(ConfigActionView):
    def perform(self, route):
        if route.is_active:
            config.archive_route(actor=self.request.user, route=route)
            return _("The route was archived: no new rounds are generated.")
        config.activate_route(actor=self.request.user, route=route)
        return _("The route is active again.")


class CheckpointMoveView(ConfigActionView):
    model = Checkpoint

    def perform(self, checkpoint):
        step = -1 if self.request.POST.get("direction") == "up" else 1
        position = max(checkpoint.position + step, 1)
        config.move_checkpoint(actor=self.request.user, checkpoint=checkpoint, position=position)
        return _("Moved.")

    def back(self, checkpoint):
        return checkpoint.route.get_absolute_url() + "#checkpoints"


class CheckpointRemoveView(ConfigActionView):
    model = Checkpoint

    def perform(self, checkpoint):
        if config.remove_checkpoint(actor=self.request.user, checkpoint=checkpoint):
            return _("The checkpoint was deleted.")
        return _("Rounds recorded this checkpoint, so it was retired instead of deleted.")

    def back(self, checkpoint):
        return checkpoint.route.get_absolute_url() + "#checkpoints"


class ItemRemoveView(ConfigActionView):
    model = CheckItem

    def perform(self, item):
        if config.remove_check_item(actor=self.request.user, item=item):
            return _("The check item was deleted.")
        return _("Readings use this item, so it was retired instead of deleted.")

    def back(self, item):
        return item.checkpoint.route.get_absolute_url() + "#checkpoints"


# ---------------------------------------------------------------- QR


class RouteQrSheetView(ReaderMixin, generic.View):
    staff_only = True

    def get(self, request, pk):
        route = _scoped(Route, request.user, pk)
        return _attachment(qr.route_sheet_pdf(route), "application/pdf", f"qr-{route.code}.pdf")


class CheckpointQrView(ReaderMixin, generic.View):
    staff_only = True

    def get(self, request, pk):
        checkpoint = _scoped(Checkpoint, request.user, pk)
        response = HttpResponse(qr.checkpoint_png(checkpoint), content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="qr-{checkpoint.pk}.png"'
        return response


# ---------------------------------------------------------------- SOPs and schemes


class SopListView(ReaderMixin, ScopedListView):
    staff_only = True
    model = Sop
    filterset_class = forms.SopFilter
    search_fields = ("code", "title")
    sort_fields = {"code": _("Code"), "title": _("Title")}
    default_sort = "code"
    template_name = "inspections/sops_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .annotate(
                latest=Max("versions__number"), route_count=Count("versions__routes", distinct=True)
            )
        )


class SopDetailView(ReaderMixin, ScopedDetailView):
    staff_only = True
    model = Sop
    template_name = "inspections/sops_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["versions"] = (
            SopVersion.objects.filter(sop=self.object)
            .select_related("created_by")
            .prefetch_related("kpis", "routes")
            .order_by("-number")
        )
        ctx["can_edit"] = self.can_write(self.object)
        latest = ctx["versions"][:1]
        if self.object.work_order_type and latest:
            judged = sop_actuals.judge_work_order_sop(user=self.request.user, version=latest[0])
            for row in judged["kpis"]:
                row["actual_text"] = show(row["kpi"].metric, row["actual"])
            ctx["judged"] = judged
        return ctx


class SopCreateView(ConfigFormView):
    staff_only = True
    form_class = forms.SopForm
    title = _("New SOP")

    def perform(self, form):
        return sops.create_sop(actor=self.request.user, **form.data_for_service())

    def success_url_for(self, sop):
        return reverse("inspections:sop-version-create", args=[sop.pk])

    def cancel_url(self):
        return reverse("inspections:sop-list")


class SopVersionCreateView(ConfigFormView):
    staff_only = True
    form_class = forms.SopVersionForm
    parent_model = Sop
    template_name = "inspections/sops_version_form.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["sop"] = self.parent
        ctx.setdefault("kpi_formset", self.kpi_formset())
        return ctx

    def kpi_formset(self):
        data = self.request.POST if self.request.method == "POST" else None
        return forms.KpiFormSet(data, prefix="kpi")

    def post(self, request, *args, **kwargs):
        form, kpis = self.get_form(), self.kpi_formset()
        if not (form.is_valid() and kpis.is_valid()):
            return self.render_to_response(self.get_context_data(form=form, kpi_formset=kpis))
        rows = [
            {k: row[k] for k in ("kind", "metric", "comparator", "target")}
            for row in kpis.cleaned_data
            if row.get("metric")
        ]
        try:
            sops.publish_sop_version(actor=request.user, sop=self.parent, kpis=rows,
                                       **form.cleaned_data)  # fmt: skip
        except DomainError as exc:
            apply_error(form, exc)
            return self.render_to_response(self.get_context_data(form=form, kpi_formset=kpis))
        messages.success(request, _("The new version is published."))
        return HttpResponseRedirect(reverse("inspections:sop-detail", args=[self.parent.pk]))

    def cancel_url(self):
        return reverse("inspections:sop-detail", args=[self.parent.pk])


class SchemeListView(ReaderMixin, ScopedListView):
    staff_only = True
    model = QualityScheme
    search_fields = ("name",)
    sort_fields = {"name": _("Name")}
    default_sort = "name"
    template_name = "inspections/schemes_list.html"

    def get_queryset(self):
        return super().get_queryset().annotate(route_count=Count("routes"))


class SchemeCreateView(ConfigFormView):
    staff_only = True
    form_class = forms.QualitySchemeForm
    title = _("New quality scheme")

    def perform(self, form):
        return sops.create_quality_scheme(actor=self.request.user, **form.data_for_service())

    def success_url_for(self, obj):
        return reverse("inspections:quality-scheme-list")

    def cancel_url(self):
        return reverse("inspections:quality-scheme-list")


class SchemeEditView(SchemeCreateView):
    parent_model = QualityScheme
    editing = True
    title = _("Edit quality scheme")

    def perform(self, form):
        data = form.data_for_service()
        return sops.update_quality_scheme(actor=self.request.user, scheme=self.parent, **data)


# ---------------------------------------------------------------- import


class ImportView(ReaderMixin, generic.View):
    staff_only = True
    template_name = "inspections/import_page.html"

    def _check(self, request):
        if not self.can_write():
            raise PermissionDenied

    def get(self, request):
        self._check(request)
        return render(request, self.template_name, {"form": forms.ImportForm()})

    def post(self, request):
        self._check(request)
        length = parse_id(request.META.get("CONTENT_LENGTH") or "") or 0
        context, status = {"form": forms.ImportForm()}, 200
        if length > imports.MAX_BYTES + 64 * 1024:
            context["problems"], status = [str(imports.ImportTooLarge.default_message)], 413
            return render(request, self.template_name, context, status=status)
        form = forms.ImportForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            try:
                result = imports.import_routes(actor=request.user, upload=form.cleaned_data["file"])
            except imports.ImportFailed as exc:
                context["problems"], status = exc.problems, 400
            except imports.ImportTooLarge as exc:
                context["problems"], status = [str(exc.message)], 413
            else:
                context["result"] = result
        else:
            status = 400
        return render(request, self.template_name, context, status=status)


class ImportTemplateView(ReaderMixin, generic.View):
    staff_only = True

    def get(self, request):
        if not self.can_write():
            raise PermissionDenied
        return _attachment(imports.template_bytes(), XLSX_CONTENT_TYPE, "routes-template.xlsx")


urlpatterns = [
    path("routes/", RouteListView.as_view(), name="route-list"),
    path("routes/new/", RouteCreateView.as_view(), name="route-create"),
    path("routes/import/", ImportView.as_view(), name="route-import"),
    path(
        "routes/import/template.xlsx", ImportTemplateView.as_view(), name="route-import-template"
    ),  # fmt: skip
    path("routes/<str:pk>/", RouteDetailView.as_view(), name="route-detail"),
    path("routes/<str:pk>/edit/", RouteEditView.as_view(), name="route-edit"),
    path("routes/<str:pk>/active/", RouteActiveView.as_view(), name="route-active"),
    path("routes/<str:pk>/qr.pdf", RouteQrSheetView.as_view(), name="route-qr-sheet"),
    path(
        "routes/<str:pk>/checkpoints/new/", CheckpointCreateView.as_view(), name="checkpoint-create"
    ),  # fmt: skip
    path("routes/<str:pk>/schedules/new/", ScheduleCreateView.as_view(), name="schedule-create"),
    path("checkpoints/<str:pk>/edit/", CheckpointEditView.as_view(), name="checkpoint-edit"),
    path("checkpoints/<str:pk>/move/", CheckpointMoveView.as_view(), name="checkpoint-move"),
    path("checkpoints/<str:pk>/remove/", CheckpointRemoveView.as_view(), name="checkpoint-remove"),
    path("checkpoints/<str:pk>/qr.png", CheckpointQrView.as_view(), name="checkpoint-qr"),
    path("checkpoints/<str:pk>/items/new/", ItemCreateView.as_view(), name="item-create"),
    path("check-items/<str:pk>/edit/", ItemEditView.as_view(), name="item-edit"),
    path("check-items/<str:pk>/remove/", ItemRemoveView.as_view(), name="item-remove"),
    path("schedules/<str:pk>/edit/", ScheduleEditView.as_view(), name="schedule-edit"),
    path("sops/", SopListView.as_view(), name="sop-list"),
    path("sops/new/", SopCreateView.as_view(), name="sop-create"),
    path("sops/<str:pk>/", SopDetailView.as_view(), name="sop-detail"),
    path(
        "sops/<str:pk>/versions/new/", SopVersionCreateView.as_view(), name="sop-version-create"
    ),  # fmt: skip
    path("quality-schemes/", SchemeListView.as_view(), name="quality-scheme-list"),
    path("quality-schemes/new/", SchemeCreateView.as_view(), name="quality-scheme-create"),
    path("quality-schemes/<str:pk>/edit/", SchemeEditView.as_view(), name="quality-scheme-edit"),
]
