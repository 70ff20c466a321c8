"""Surveys API, and the two public endpoints behind the tokenised links.

``/surveys/`` lists answers within the reader's scoping (operator staff: all; a customer:
its own; a partner outlet: those about its work). Surveys are never created here: the
customer answers through the public link (``submit_survey``), which works once.

The public endpoints need no login. An unknown, expired, revoked or used token is a
404, like any record one may not see; each client address is throttled (429 with
Retry-After) so tokens cannot be guessed by brute force. The client address is
REMOTE_ADDR (set by the trusted proxy), never a client-supplied X-Forwarded-For.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from frontline.core.api import ErrorSerializer
from frontline.core.rest import parse_id
from frontline.field import filters, links, services
from frontline.field.api_orders import BACKENDS
from frontline.field.models import PublicLink, Survey, WorkOrderEvent
from frontline.field.models.scoping import is_customer
from frontline.field.serializers import (
    PublicEventSerializer,
    StrictSerializer,
    name_for_outsiders,
)

# ---------------------------------------------------------------- surveys


class SurveySerializer(serializers.ModelSerializer):
    work_order_number = serializers.CharField(source="work_order.number", read_only=True)
    engineer_name = serializers.SerializerMethodField()

    class Meta:
        model = Survey
        fields = ["id", "work_order", "work_order_number", "engineer", "engineer_name", "csat",
                  "nps", "comment", "submitted_at"]  # fmt: skip
        read_only_fields = fields

    def get_engineer_name(self, obj) -> str:
        return str(obj.engineer) if obj.engineer_id else ""


class CustomerSurveySerializer(SurveySerializer):
    """The customer's own answers: the engineer by name only."""

    narrows = SurveySerializer  # the staff shape (frontline.core.schema)

    class Meta(SurveySerializer.Meta):
        fields = ["id", "work_order", "work_order_number", "engineer_name", "csat", "nps",
                  "comment", "submitted_at"]  # fmt: skip
        read_only_fields = fields

    def get_engineer_name(self, obj) -> str:
        return name_for_outsiders(obj.engineer) if obj.engineer_id else ""


@extend_schema_view(
    list=extend_schema(
        summary="List survey answers (staff; a customer its own)",
        description="Filter by engineer, work_order, submitted_from and submitted_to (dates).",
        responses=SurveySerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One survey answer", responses={200: SurveySerializer, 404: ErrorSerializer}
    ),
)
class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SurveySerializer
    queryset = Survey.objects.all()
    lookup_value_regex = r"[0-9]+"
    filter_backends = BACKENDS
    ordering = ["-submitted_at", "-id"]
    ordering_fields = ["submitted_at", "csat", "nps"]

    @property
    def filterset_class(self):
        if getattr(self, "swagger_fake_view", False) or not is_customer(self.request.user):
            return filters.SurveyFilter
        return filters.CustomerSurveyFilter

    def get_queryset(self):
        return Survey.objects.visible_to(self.request.user).select_related("work_order", "engineer")

    def get_serializer_class(self):
        if is_customer(self.request.user):
            return CustomerSurveySerializer
        return SurveySerializer

    def get_object(self):
        if parse_id(self.kwargs.get("pk")) is None:
            raise exceptions.NotFound()
        return super().get_object()


# ---------------------------------------------------------------- public links


class PublicLinkThrottle(SimpleRateThrottle):
    """Per client address, for the token endpoints (rate: ``FIELD_PUBLIC_RATE``)."""

    scope = "field_public"

    def get_rate(self):
        return getattr(settings, "FIELD_PUBLIC_RATE", "30/minute")

    def get_cache_key(self, request, view):
        address = request.META.get("REMOTE_ADDR", "") or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": address}


class PublicAnswerThrottle(PublicLinkThrottle):
    """Fewer answers than reads per client address (rate: ``FIELD_PUBLIC_ANSWER_RATE``)."""

    scope = "field_public_answer"

    def get_rate(self):
        return getattr(settings, "FIELD_PUBLIC_ANSWER_RATE", "10/minute")


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicLinkThrottle]
    filter_backends: list = []


class SurveyAnswerSerializer(StrictSerializer):
    csat = serializers.IntegerField(min_value=1, max_value=5)
    nps = serializers.IntegerField(min_value=0, max_value=10)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class SurveyThanksSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


PUBLIC_ERRORS = {400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer,
                 429: ErrorSerializer}  # fmt: skip


class PublicSurveyView(PublicView):
    throttle_classes = [PublicLinkThrottle, PublicAnswerThrottle]

    @extend_schema(
        summary="Answer a survey through its emailed link (no login)",
        description="Works once. An unknown, expired or used link is a 404; throttled (429).",
        request=SurveyAnswerSerializer,
        responses={201: SurveyThanksSerializer, **PUBLIC_ERRORS},
        auth=[],
    )
    def post(self, request, token):
        # The link first: a bad token is a 404 whatever the body says.
        links.resolve(token, PublicLink.Purpose.SURVEY)
        payload = SurveyAnswerSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.submit_survey(token=token, **payload.validated_data)
        body = {"code": "thanks", "detail": str(_("Thank you for your answer."))}
        return Response(body, status=201)


class PublicTimelineSerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    site_name = serializers.CharField()
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    engineer_name = serializers.CharField()
    eta = serializers.DateTimeField(allow_null=True)
    events = PublicEventSerializer(many=True)


def public_timeline(work_order) -> dict:
    events = (
        WorkOrderEvent.objects.filter(work_order=work_order, public=True)
        .select_related("author")
        .order_by("created_at", "id")
    )
    return {
        "number": work_order.number,
        "title": work_order.title,
        "status": work_order.status,
        "status_label": str(work_order.get_status_display()),
        "site_name": work_order.site.name,
        "window_start": work_order.window_start,
        "window_end": work_order.window_end,
        "engineer_name": name_for_outsiders(work_order.assignee) if work_order.assignee_id else "",
        "eta": work_order.eta,
        "events": list(events),
    }


class PublicTimelineView(PublicView):
    @extend_schema(
        summary="Follow a visit through its emailed link (no login)",
        description="Status, appointment, the engineer's name, ETA and public events. An "
        "unknown, expired or revoked link is a 404; throttled (429).",
        responses={200: PublicTimelineSerializer, **PUBLIC_ERRORS},
        auth=[],
    )
    def get(self, request, token):
        link = links.resolve(token, PublicLink.Purpose.TIMELINE)
        work_order = (
            type(link.work_order)
            .objects.select_related("site", "assignee")
            .get(pk=link.work_order_id)
        )
        return Response(PublicTimelineSerializer(public_timeline(work_order)).data)


router = SimpleRouter()
router.register("surveys", SurveyViewSet, basename="survey")
urlpatterns = [
    *router.urls,
    path("public/surveys/<str:token>/", PublicSurveyView.as_view(), name="public-survey"),
    path("public/timeline/<str:token>/", PublicTimelineView.as_view(), name="public-timeline"),
]
