"""Routes API: routes with their checkpoints and items, schedules, SOPs (with versions
and KPIs), quality schemes, the Excel import and the printable QR sheet.

Reads go through ``visible_to(user)``: staff see every project's routes, a customer
its own (another customer's route is a 404) in a smaller shape. Writes need
``Cap.MANAGE_ROUTES`` (403 otherwise, nothing changed) and go through
:mod:`frontline.inspections.config`. Checkpoints and items are managed under their
route: ``/routes/{id}/checkpoints/[{checkpoint}/[items/[{item}/]]]``.
"""

from __future__ import annotations

import json

from django.db.models import Count, Max, Prefetch, Q
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from frontline.accounts.roles import Cap
from frontline.core.api import ErrorSerializer, ScopedModelViewSet
from frontline.core.rest import parse_id
from frontline.desk.exports import XLSX_CONTENT_TYPE
from frontline.inspections import access, config, imports, qr, sops
from frontline.inspections import serializers_routes as s
from frontline.inspections.forms import RouteFilter, ScheduleFilter, SopFilter
from frontline.inspections.models import (
    CheckItem,
    Checkpoint,
    QualityScheme,
    Route,
    Schedule,
    Sop,
    SopVersion,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}
_MULTIPART_SLACK = 64 * 1024


CHECKPOINT_ID = OpenApiParameter("checkpoint_id", int, OpenApiParameter.PATH)
ITEM_ID = OpenApiParameter("item_id", int, OpenApiParameter.PATH)


def ok(serializer, status: int = 200):
    return {status: serializer, **ERRORS}


class BinaryRenderer(BaseRenderer):
    """Lets a client ask for the PDF or PNG by Accept; errors still come out as JSON text."""

    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data, default=str).encode()


class PdfRenderer(BinaryRenderer):
    media_type = "application/pdf"
    format = "pdf"


class PngRenderer(BinaryRenderer):
    media_type = "image/png"
    format = "png"


class XlsxRenderer(BinaryRenderer):
    media_type = XLSX_CONTENT_TYPE
    format = "xlsx"


def is_customer(user) -> bool:
    return not access.is_inspection_staff(user)


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


class BodyMixin:
    def body(self, serializer_class, *, partial: bool = False) -> dict:
        serializer = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


def _child(queryset, raw):
    pk = parse_id(raw)
    found = queryset.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise exceptions.NotFound()
    return found


# ---------------------------------------------------------------- routes


@extend_schema_view(
    list=extend_schema(
        summary="List routes (staff: all; a customer: its own projects')",
        responses=s.RouteSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One route with its checkpoints (in order) and their items",
        responses=ok(s.RouteDetailSerializer),
    ),
    create=extend_schema(
        summary="Create a route (route managers)",
        request=s.RouteWriteSerializer,
        responses={201: s.RouteDetailSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a route; is_active=false archives it (route managers)",
        request=s.RouteWriteSerializer,
        responses=ok(s.RouteDetailSerializer),
    ),
    destroy=extend_schema(exclude=True),  # always 405: a route is archived instead
)
class RouteViewSet(BodyMixin, ScopedModelViewSet):
    queryset = Route.objects.all()
    serializer_class = s.RouteSerializer
    write_capability = Cap.MANAGE_ROUTES
    lookup_value_regex = r"[0-9]+"
    # DELETE only on the nested checkpoint and item actions; a route is archived instead.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_class = RouteFilter
    ordering = ["project__code", "code"]
    ordering_fields = ["code", "name", "created_at"]
    search_fields = ["code", "name"]

    def get_queryset(self):
        qs = (
            super()
            .get_queryset()
            .select_related("project", "site")
            .annotate(checkpoint_count=Count("checkpoints", filter=Q(checkpoints__is_active=True)))
        )
        if self.action != "list":
            items = CheckItem.objects.order_by("position", "id")
            points = Checkpoint.objects.select_related("asset").order_by("position", "id")
            qs = qs.prefetch_related(
                Prefetch("checkpoints", queryset=points.prefetch_related(
                    Prefetch("items", queryset=items)))
            )  # fmt: skip
        return qs

    def get_serializer_class(self):
        customer = is_customer(self.request.user)
        if self.action == "list":
            return s.CustomerRouteSerializer if customer else s.RouteSerializer
        return s.CustomerRouteDetailSerializer if customer else s.RouteDetailSerializer

    def show(self, route, status: int = 200) -> Response:
        self.action = "retrieve"
        fresh = self.get_queryset().get(pk=route.pk)
        return Response(self.get_serializer_class()(fresh).data, status=status)

    def create(self, request, *args, **kwargs):
        route = config.create_route(actor=request.user, **self.body(s.RouteWriteSerializer))
        return self.show(route, 201)

    def partial_update(self, request, *args, **kwargs):
        route = self.get_object()
        data = self.body(s.RouteWriteSerializer, partial=True)
        return self.show(config.update_route(actor=request.user, route=route, **data))

    def update(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)

    def destroy(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)

    # ------------------------------------------------------------ checkpoints

    def _checkpoint(self, route, checkpoint_id) -> Checkpoint:
        return _child(Checkpoint.objects.filter(route=route), checkpoint_id)

    def _write(self, route) -> None:
        if not self.can_write(route):
            raise exceptions.PermissionDenied()

    @extend_schema(
        methods=["GET"],
        summary="The route's checkpoints in order, with their items",
        responses=ok(s.RouteCheckpointSerializer(many=True)),
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a checkpoint (at the end, or at position)",
        request=s.CheckpointWriteSerializer,
        responses={201: s.RouteCheckpointSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def checkpoints(self, request, pk=None):
        route = self.get_object()
        if request.method == "POST":
            data = self.body(s.CheckpointWriteSerializer)
            data.pop("is_active", None)
            checkpoint = config.add_checkpoint(actor=request.user, route=route, **data)
            return Response(s.RouteCheckpointSerializer(checkpoint).data, status=201)
        shape = (
            s.CustomerRouteCheckpointSerializer
            if is_customer(request.user)
            else s.RouteCheckpointSerializer
        )
        return Response(shape(route.checkpoints.all(), many=True).data)

    @extend_schema(
        methods=["PATCH"],
        summary="Change a checkpoint",
        parameters=[CHECKPOINT_ID],
        request=s.CheckpointWriteSerializer,
        responses=ok(s.RouteCheckpointSerializer),
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove a checkpoint: erased (204) or, when rounds recorded it, retired (200)",
        parameters=[CHECKPOINT_ID],
        responses={204: None, 200: s.RouteCheckpointSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"checkpoints/(?P<checkpoint_id>[0-9]+)",
        url_name="checkpoint",
        filter_backends=[],
    )
    def checkpoint(self, request, pk=None, checkpoint_id=None):
        route = self.get_object()
        checkpoint = self._checkpoint(route, checkpoint_id)
        if request.method == "DELETE":
            if config.remove_checkpoint(actor=request.user, checkpoint=checkpoint):
                return Response(status=204)
            checkpoint.refresh_from_db()
            return Response(s.RouteCheckpointSerializer(checkpoint).data)
        data = self.body(s.CheckpointWriteSerializer, partial=True)
        position = data.pop("position", None)
        checkpoint = config.update_checkpoint(actor=request.user, checkpoint=checkpoint, **data)
        if position is not None:
            checkpoint = config.move_checkpoint(
                actor=request.user, checkpoint=checkpoint, position=position
            )
        return Response(s.RouteCheckpointSerializer(checkpoint).data)

    @extend_schema(
        summary="Move a checkpoint to a position (1-based); the route is renumbered",
        parameters=[CHECKPOINT_ID],
        request=s.CheckpointMoveSerializer,
        responses=ok(s.RouteCheckpointSerializer(many=True)),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"checkpoints/(?P<checkpoint_id>[0-9]+)/move",
        url_name="checkpoint-move",
        filter_backends=[],
        pagination_class=None,  # the whole route's checkpoints, a plain list
    )
    def move(self, request, pk=None, checkpoint_id=None):
        route = self.get_object()
        checkpoint = self._checkpoint(route, checkpoint_id)
        data = self.body(s.CheckpointMoveSerializer)
        config.move_checkpoint(actor=request.user, checkpoint=checkpoint, **data)
        points = Checkpoint.objects.filter(route=route).prefetch_related("items")
        return Response(
            s.RouteCheckpointSerializer(points.order_by("position", "id"), many=True).data
        )

    @extend_schema(
        summary="Add a check item to a checkpoint",
        parameters=[CHECKPOINT_ID],
        request=s.CheckItemWriteSerializer,
        responses={201: s.RouteCheckItemSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"checkpoints/(?P<checkpoint_id>[0-9]+)/items",
        url_name="checkpoint-items",
        filter_backends=[],
    )
    def items(self, request, pk=None, checkpoint_id=None):
        route = self.get_object()
        checkpoint = self._checkpoint(route, checkpoint_id)
        data = self.body(s.CheckItemWriteSerializer)
        data.pop("is_active", None)
        item = config.add_check_item(actor=request.user, checkpoint=checkpoint, **data)
        return Response(s.RouteCheckItemSerializer(item).data, status=201)

    @extend_schema(
        methods=["PATCH"],
        summary="Change a check item",
        parameters=[CHECKPOINT_ID, ITEM_ID],
        request=s.CheckItemWriteSerializer,
        responses=ok(s.RouteCheckItemSerializer),
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove a check item: erased (204) or, when readings use it, retired (200)",
        parameters=[CHECKPOINT_ID, ITEM_ID],
        responses={204: None, 200: s.RouteCheckItemSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"checkpoints/(?P<checkpoint_id>[0-9]+)/items/(?P<item_id>[0-9]+)",
        url_name="checkpoint-item",
        filter_backends=[],
    )
    def item(self, request, pk=None, checkpoint_id=None, item_id=None):
        route = self.get_object()
        checkpoint = self._checkpoint(route, checkpoint_id)
        item = _child(CheckItem.objects.filter(checkpoint=checkpoint), item_id)
        if request.method == "DELETE":
            if config.remove_check_item(actor=request.user, item=item):
                return Response(status=204)
            item.refresh_from_db()
            return Response(s.RouteCheckItemSerializer(item).data)
        data = self.body(s.CheckItemWriteSerializer, partial=True)
        item = config.update_check_item(actor=request.user, item=item, **data)
        return Response(s.RouteCheckItemSerializer(item).data)

    # ------------------------------------------------------------ printing and import

    def _may_print(self) -> None:
        if not access.is_inspection_staff(self.request.user):
            raise exceptions.PermissionDenied()

    @extend_schema(
        summary="The route's printable QR sheet (PDF; operator staff)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="qr-sheet",
        url_name="qr-sheet",
        renderer_classes=[JSONRenderer, PdfRenderer],
        filter_backends=[],
    )
    def qr_sheet(self, request, pk=None):
        route = self.get_object()
        self._may_print()
        return _attachment(qr.route_sheet_pdf(route), "application/pdf", f"qr-{route.pk}.pdf")

    @extend_schema(
        summary="One checkpoint's QR code (PNG; operator staff)",
        parameters=[CHECKPOINT_ID],
        responses={(200, "image/png"): OpenApiTypes.BINARY, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"checkpoints/(?P<checkpoint_id>[0-9]+)/qr",
        url_name="checkpoint-qr",
        renderer_classes=[JSONRenderer, PngRenderer],
        filter_backends=[],
    )
    def checkpoint_qr(self, request, pk=None, checkpoint_id=None):
        route = self.get_object()
        self._may_print()
        checkpoint = self._checkpoint(route, checkpoint_id)
        return _attachment(qr.checkpoint_png(checkpoint), "image/png", f"qr-{checkpoint.pk}.png")

    @extend_schema(
        summary="Import routes, checkpoints and items from an .xlsx file (route managers)",
        description=(
            "All or nothing, idempotent on project + route code + checkpoint code + item name. "
            "400 lists each problem as 'Row 7, column L (normal min): …' in fields.file; "
            "413 when the file is too large."
        ),
        request={"multipart/form-data": s.ImportUploadSerializer},
        responses={200: s.ImportResultSerializer, 413: ErrorSerializer, **ERRORS},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser],
        filter_backends=[],
    )
    def import_file(self, request):
        length = parse_id(request.META.get("CONTENT_LENGTH") or "") or 0
        if length > imports.MAX_BYTES + _MULTIPART_SLACK:
            raise imports.ImportTooLarge()
        upload = self.body(s.ImportUploadSerializer)["file"]
        result = imports.import_routes(actor=request.user, upload=upload)
        return Response({"rows": result.rows, **result.counts})

    @extend_schema(
        summary="The import template (.xlsx)",
        responses={(200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY, **ERRORS},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="import-template",
        url_name="import-template",
        renderer_classes=[JSONRenderer, XlsxRenderer],
        filter_backends=[],
    )
    def import_template(self, request):
        if not self.can_write(None):
            raise exceptions.PermissionDenied()
        return _attachment(imports.template_bytes(), XLSX_CONTENT_TYPE, "routes-template.xlsx")


# ---------------------------------------------------------------- schedules


@extend_schema_view(
    list=extend_schema(summary="List route schedules", responses=s.ScheduleSerializer(many=True)),
    retrieve=extend_schema(summary="One schedule", responses=ok(s.ScheduleSerializer)),
    create=extend_schema(
        summary="Add a schedule to a route (route managers)",
        request=s.ScheduleWriteSerializer,
        responses={201: s.ScheduleSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a schedule (rounds already generated stay)",
        request=s.ScheduleWriteSerializer,
        responses=ok(s.ScheduleSerializer),
    ),
)
class ScheduleViewSet(BodyMixin, ScopedModelViewSet):
    queryset = Schedule.objects.all()
    serializer_class = s.ScheduleSerializer
    write_capability = Cap.MANAGE_ROUTES
    lookup_value_regex = r"[0-9]+"
    filterset_class = ScheduleFilter
    ordering = ["route", "id"]
    ordering_fields = ["starts_on", "created_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("route")

    def get_serializer_class(self):
        return (
            s.CustomerScheduleSerializer if is_customer(self.request.user) else s.ScheduleSerializer
        )

    def create(self, request, *args, **kwargs):
        schedule = config.create_schedule(
            actor=request.user, **self.body(s.ScheduleWriteSerializer)
        )
        return Response(s.ScheduleSerializer(schedule).data, status=201)

    def partial_update(self, request, *args, **kwargs):
        schedule = self.get_object()
        data = self.body(s.ScheduleWriteSerializer, partial=True)
        if "route" in data and data["route"].pk != schedule.route_id:
            raise exceptions.ValidationError({"route": ["A schedule stays on its route."]})
        data.pop("route", None)
        schedule = config.update_schedule(actor=request.user, schedule=schedule, **data)
        return Response(s.ScheduleSerializer(schedule).data)

    def update(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)


# ---------------------------------------------------------------- quality schemes


@extend_schema_view(
    list=extend_schema(
        summary="List quality schemes (operator staff)",
        responses=s.QualitySchemeSerializer(many=True),
    ),
    retrieve=extend_schema(summary="One quality scheme", responses=ok(s.QualitySchemeSerializer)),
    create=extend_schema(
        summary="Create a quality scheme (route managers)",
        request=s.QualitySchemeWriteSerializer,
        responses={201: s.QualitySchemeSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a quality scheme's weights or standard line",
        request=s.QualitySchemeWriteSerializer,
        responses=ok(s.QualitySchemeSerializer),
    ),
)
class QualitySchemeViewSet(BodyMixin, ScopedModelViewSet):
    queryset = QualityScheme.objects.all()
    serializer_class = s.QualitySchemeSerializer
    write_capability = Cap.MANAGE_ROUTES
    lookup_value_regex = r"[0-9]+"
    ordering = ["name"]
    ordering_fields = ["name"]
    search_fields = ["name"]

    def create(self, request, *args, **kwargs):
        data = self.body(s.QualitySchemeWriteSerializer)
        scheme = sops.create_quality_scheme(actor=request.user, **data)
        return Response(s.QualitySchemeSerializer(scheme).data, status=201)

    def partial_update(self, request, *args, **kwargs):
        scheme = self.get_object()
        data = self.body(s.QualitySchemeWriteSerializer, partial=True)
        scheme = sops.update_quality_scheme(actor=request.user, scheme=scheme, **data)
        return Response(s.QualitySchemeSerializer(scheme).data)

    def update(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)


# ---------------------------------------------------------------- SOPs


@extend_schema_view(
    list=extend_schema(summary="List SOPs (operator staff)", responses=s.SopSerializer(many=True)),
    retrieve=extend_schema(summary="One SOP", responses=ok(s.SopSerializer)),
    create=extend_schema(
        summary="Create an SOP (route managers); its text comes with a version",
        request=s.SopWriteSerializer,
        responses={201: s.SopSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change an SOP's title or retire it",
        request=s.SopWriteSerializer,
        responses=ok(s.SopSerializer),
    ),
)
class SopViewSet(BodyMixin, ScopedModelViewSet):
    queryset = Sop.objects.all()
    serializer_class = s.SopSerializer
    write_capability = Cap.MANAGE_ROUTES
    lookup_value_regex = r"[0-9]+"
    filterset_class = SopFilter
    ordering = ["code"]
    ordering_fields = ["code", "title", "created_at"]
    search_fields = ["code", "title"]

    def get_queryset(self):
        return super().get_queryset().annotate(latest_version=Max("versions__number"))

    def _show(self, sop, status=200):
        return Response(s.SopSerializer(self.get_queryset().get(pk=sop.pk)).data, status=status)

    def create(self, request, *args, **kwargs):
        data = self.body(s.SopWriteSerializer)
        active = data.pop("is_active", True)
        sop = sops.create_sop(actor=request.user, **data)
        if not active:
            sop = sops.update_sop(actor=request.user, sop=sop, is_active=False)
        return self._show(sop, 201)

    def partial_update(self, request, *args, **kwargs):
        sop = self.get_object()
        data = self.body(s.SopWriteSerializer, partial=True)
        fixed = {k for k in ("code", "work_order_type") if k in data and data[k] != getattr(sop, k)}
        if fixed:
            raise exceptions.ValidationError({k: ["This field cannot be changed."] for k in fixed})
        changes = {k: v for k, v in data.items() if k in ("title", "is_active")}
        return self._show(sops.update_sop(actor=request.user, sop=sop, **changes))

    def update(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)

    @extend_schema(
        methods=["GET"],
        summary="The SOP's versions, newest first, with their KPIs",
        responses=ok(s.SopVersionSerializer(many=True)),
    )
    @extend_schema(
        methods=["POST"],
        summary="Publish the next version with its KPIs (route managers)",
        request=s.SopVersionWriteSerializer,
        responses={201: s.SopVersionSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def versions(self, request, pk=None):
        sop = self.get_object()
        if request.method == "POST":
            data = self.body(s.SopVersionWriteSerializer)
            data["kpis"] = [dict(k) for k in data.get("kpis", [])]
            version = sops.publish_sop_version(actor=request.user, sop=sop, **data)
            return Response(s.SopVersionSerializer(version).data, status=201)
        versions = SopVersion.objects.filter(sop=sop).prefetch_related("kpis").order_by("-number")
        return Response(s.SopVersionSerializer(versions, many=True).data)


router = SimpleRouter()
router.register("routes", RouteViewSet, basename="route")
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("quality-schemes", QualitySchemeViewSet, basename="quality-scheme")
router.register("sops", SopViewSet, basename="sop")
urlpatterns = router.urls
