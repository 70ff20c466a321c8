"""Work orders API: thin viewsets over the field services (``frontline.field.services``).

Reads go through ``visible_to(user)``: operator staff see every work order, a customer
its organisation's, a partner outlet what was sent to it; anything else is a 404 on
every path, downloads and actions included. Every write is one service call, and the
service decides who may act (403 with nothing changed); illegal transitions are a 409
whose ``fields.status`` lists the allowed next statuses. The verbs live in
``frontline.field.api_actions``; the engineer's own offers in ``OfferViewSet``.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings

from frontline.accounts.roles import Cap
from frontline.core.api import ErrorSerializer, ScopedModelViewSet
from frontline.core.errors import NotFound
from frontline.core.rest import parse_id
from frontline.desk.api import _disposition
from frontline.field import access, filters, services
from frontline.field import serializers as s
from frontline.field.api_actions import ERRORS, WorkOrderActions, ok
from frontline.field.engineers import position_of, site_point
from frontline.field.geo import haversine_m
from frontline.field.models import (
    EngineerProfile,
    GrabOffer,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderPhoto,
    WorkOrderSkill,
)
from frontline.field.models.scoping import is_customer, org_of_kind
from frontline.field.states import OfferStatus

PARTNER = "partner"


def audience(user) -> str:
    """Which shape of a work order the user reads: staff, partner or customer."""
    if access.is_field_staff(user):
        return "staff"
    if org_of_kind(user, PARTNER) is not None:
        return PARTNER
    return "customer"


READ_SERIALIZERS = {
    "staff": (s.WorkOrderSerializer, s.WorkOrderDetailSerializer, s.EventSerializer),
    PARTNER: (s.PartnerWorkOrderSerializer, s.PartnerWorkOrderDetailSerializer,
              s.PublicEventSerializer),
    "customer": (s.CustomerWorkOrderSerializer, s.CustomerWorkOrderDetailSerializer,
                 s.PublicEventSerializer),
}  # fmt: skip

FILTERS = {
    "staff": filters.WorkOrderFilter,
    PARTNER: filters.PartnerWorkOrderFilter,
    "customer": filters.CustomerWorkOrderFilter,
}

# Everything but the ordering backend, which knows that "priority" means its rank.
BACKENDS = [
    *(b for b in api_settings.DEFAULT_FILTER_BACKENDS if not b.__name__.endswith("OrderingFilter")),
    filters.RankedOrderingFilter,
]


@extend_schema_view(
    list=extend_schema(
        summary="List the work orders you can see",
        description=(
            "Staff see every customer's work orders; a partner outlet those sent to it; a "
            "customer its organisation's. Customers and outlets get a smaller payload and "
            "fewer filters (an unknown filter is a 400). `ordering` by created_at, "
            "window_start, priority (by rank) or number."
        ),
        responses=s.WorkOrderSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One work order with its skills, checklist, photos and timeline",
        description="Customers and partner outlets read only public events.",
        responses=ok(s.WorkOrderDetailSerializer),
    ),
    create=extend_schema(
        summary="Open a work order (dispatchers; agents for a ticket)",
        description=(
            "Every id is checked against your scoping, and site, project, asset, ticket "
            "and earlier visit must belong to the customer (else 400 naming the field)."
        ),
        request=s.WorkOrderCreateSerializer,
        responses={201: s.WorkOrderDetailSerializer, **ERRORS},
    ),
)
class WorkOrderViewSet(WorkOrderActions, ScopedModelViewSet):
    queryset = WorkOrder.objects.all()
    serializer_class = s.WorkOrderSerializer
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = r"[0-9]+"
    filter_backends = BACKENDS
    ordering = ["-created_at", "-id"]
    ordering_fields = ["created_at", "window_start", "priority", "number"]
    ordering_aliases = {"priority": "priority_rank"}
    search_fields = ["number", "title"]  # ``search`` as everywhere; ``q`` is the same

    @property
    def filterset_class(self):
        if getattr(self, "swagger_fake_view", False):
            return filters.WorkOrderFilter
        return FILTERS[audience(self.request.user)]

    def get_queryset(self):
        user = self.request.user
        skills = WorkOrderSkill.objects.select_related("skill").order_by("skill__code")
        qs = (
            WorkOrder.objects.visible_to(user)
            .select_related("customer", "site", "project", "asset", "assignee", "partner", "team",
                            "ticket")
            .prefetch_related(
                Prefetch("required_skills", queryset=skills),
                Prefetch("offers", queryset=GrabOffer.objects.filter(status=OfferStatus.OPEN),
                         to_attr="open_offers"),
            )
            .annotate(priority_rank=filters.priority_rank())
        )  # fmt: skip
        if self.action == "list":
            return qs.defer("description")
        if self.action == "retrieve":
            events = WorkOrderEvent.objects.visible_to(user).select_related("author")
            qs = qs.prefetch_related(
                "checklist",
                Prefetch("photos", queryset=WorkOrderPhoto.objects.visible_to(user),
                         to_attr="visible_photos"),
                Prefetch("events", queryset=events.order_by("created_at", "id"),
                         to_attr="visible_events"),
            )  # fmt: skip
        return qs

    def get_serializer_class(self):
        if self.action == "create":
            return s.WorkOrderCreateSerializer
        summary, detail, _events = READ_SERIALIZERS[audience(self.request.user)]
        return summary if self.action == "list" else detail

    def can_write(self, obj=None) -> bool:
        user = self.request.user
        if obj is None and self.action == "create":
            return access.may_dispatch(user) or user.has_capability(Cap.WORK_TICKETS)
        # A customer reads; on anything else the verb's service decides (403, nothing changed).
        return not is_customer(user)

    def show(self, work_order, status: int = 200) -> Response:
        """The work order as the caller reads it after a change (fresh from the database)."""
        self.action = "retrieve"
        fresh = self.get_queryset().get(pk=work_order.pk)
        detail = READ_SERIALIZERS[audience(self.request.user)][1]
        return Response(detail(fresh, context=self.get_serializer_context()).data, status)

    def create(self, request, *args, **kwargs):
        # ``site`` may be left out (it comes from the ticket or the asset); the service
        # decides whether one is missing (400), so it always gets the argument.
        data = {"site": None, **self.body(s.WorkOrderCreateSerializer)}
        work_order = services.create_work_order(actor=request.user, route=True, **data)
        return self.show(work_order, 201)

    @extend_schema(
        summary="The work order's timeline (customers and outlets: public events only)",
        responses=s.EventSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request, pk=None):
        work_order = self.get_object()
        qs = (
            WorkOrderEvent.objects.visible_to(request.user)
            .filter(work_order=work_order)
            .select_related("author")
            .order_by("created_at", "id")
        )
        page = self.paginate_queryset(qs)
        serializer = READ_SERIALIZERS[audience(request.user)][2]
        return self.get_paginated_response(serializer(page, many=True).data)


# ---------------------------------------------------------------- photos


@extend_schema_view(retrieve=extend_schema(summary="A work order photo's details",
                                           responses=ok(s.PhotoSerializer)))  # fmt: skip
class PhotoViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Photos are read here; they are added through ``POST /work-orders/{id}/photos/``."""

    serializer_class = s.PhotoSerializer
    queryset = WorkOrderPhoto.objects.all()
    lookup_value_regex = r"[0-9]+"
    filter_backends: list = []

    def get_queryset(self):
        return WorkOrderPhoto.objects.visible_to(self.request.user)

    def get_serializer_class(self):
        if audience(self.request.user) == "customer":
            return s.CustomerPhotoSerializer
        return s.PhotoSerializer

    def get_object(self):
        if parse_id(self.kwargs.get("pk")) is None:
            raise exceptions.NotFound()
        return super().get_object()

    @extend_schema(
        summary="Download the photo (always as an attachment, never rendered inline)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            404: ErrorSerializer,
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        photo = self.get_object()
        try:
            handle = photo.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise NotFound()
        response = FileResponse(handle, as_attachment=True, content_type=photo.content_type)
        response["Content-Disposition"] = _disposition(photo.name)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


# ---------------------------------------------------------------- the engineer's offers


class OfferWorkOrderSerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(source="site.name", read_only=True)
    site_address = serializers.CharField(source="site.address", read_only=True)
    required_skills = s.RequiredSkillSerializer(many=True, read_only=True)

    class Meta:
        model = WorkOrder
        fields = ["id", "number", "type", "title", "priority", "site_name", "site_address",
                  "estimated_minutes", "window_start", "window_end", "required_skills"]  # fmt: skip
        read_only_fields = fields


class MyOfferSerializer(serializers.ModelSerializer):
    """An open offer as the engineer it was made to sees it."""

    work_order = OfferWorkOrderSerializer(read_only=True)
    distance_km = serializers.SerializerMethodField()

    class Meta:
        model = GrabOffer
        fields = ["id", "status", "expires_at", "radius_km", "distance_km", "work_order"]
        read_only_fields = fields

    def get_distance_km(self, obj) -> float | None:
        here = self.context.get("position")
        there = site_point(obj.work_order.site)
        if here is None or there is None:
            return None
        return round(haversine_m(*here, *there) / 1000, 1)


@extend_schema_view(
    list=extend_schema(
        summary="Your open offers (engineers): nearest first",
        description="Offers made to you that are still open and not expired.",
        responses=MyOfferSerializer(many=True),
    )
)
class OfferViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = MyOfferSerializer
    queryset = GrabOffer.objects.all()
    lookup_value_regex = r"[0-9]+"
    filter_backends: list = []

    def get_queryset(self):
        user = self.request.user
        skills = WorkOrderSkill.objects.select_related("skill").order_by("skill__code")
        return (
            GrabOffer.objects.visible_to(user)
            .filter(recipients=user, status=OfferStatus.OPEN, expires_at__gt=timezone.now())
            .select_related("work_order__site")
            .prefetch_related(Prefetch("work_order__required_skills", queryset=skills))
            .order_by("expires_at", "id")
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = self.request.user
        profile = EngineerProfile.objects.filter(user_id=getattr(user, "pk", None)).first()
        context["position"] = position_of(profile) if profile is not None else None
        return context

    @extend_schema(
        summary="Claim an offer: the first valid claim wins",
        description=(
            "409 with a reason code when the offer is taken (`offer_taken`), expired "
            "(`offer_expired`), closed (`offer_closed`), not yours (`not_offered`) or you "
            "are not eligible (`not_eligible`, e.g. an expired certification)."
        ),
        request=None,
        responses=ok(s.WorkOrderDetailSerializer),
    )
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        offer_id = parse_id(pk)
        # Staff see every offer, an engineer only those made to them: else a 404.
        if (
            offer_id is None
            or not GrabOffer.objects.visible_to(request.user).filter(pk=offer_id).exists()
        ):
            raise exceptions.NotFound()
        work_order = services.claim_offer(actor=request.user, offer_id=offer_id)
        view = WorkOrderViewSet(request=request, format_kwarg=None, kwargs={}, action="retrieve")
        return view.show(work_order)


router = SimpleRouter()
router.register("work-orders", WorkOrderViewSet, basename="work-order")
router.register("work-order-photos", PhotoViewSet, basename="work-order-photo")
router.register("offers", OfferViewSet, basename="offer")
urlpatterns = router.urls
