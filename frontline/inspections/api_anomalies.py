"""Anomalies API: list and read within scope, report one, and the handler's verbs
(confirm, dismiss, handle, open the follow-up) — one service call each
(``frontline.inspections.anomalies``)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings

from frontline.core.api import ScopedModelViewSet
from frontline.core.errors import ValidationFailed
from frontline.core.filters import BooleanFilter
from frontline.field.filters import RankedOrderingFilter, priority_rank
from frontline.field.states import Priority
from frontline.inspections import access, anomalies
from frontline.inspections import serializers_rounds as s
from frontline.inspections.api_rounds import ERRORS, projects, routes
from frontline.inspections.models import Anomaly, CheckItem, Checkpoint, Round
from frontline.inspections.states import UNHANDLED_ANOMALY_STATUSES, AnomalySource, AnomalyStatus
from frontline.sites.filters import ScopedModelChoiceFilter

SHOWS = {200: s.AnomalySerializer, **ERRORS}
# Everything but the ordering backend, which knows that "priority" means its rank.
BACKENDS = [
    *(b for b in api_settings.DEFAULT_FILTER_BACKENDS if not b.__name__.endswith("OrderingFilter")),
    RankedOrderingFilter,
]


class AnomalyFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=AnomalyStatus.choices, label=_("Status"), distinct=False
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=Priority.choices, label=_("Priority"), distinct=False
    )
    source = django_filters.ChoiceFilter(choices=AnomalySource.choices, label=_("Source"))
    route = ScopedModelChoiceFilter(queryset=routes, label=_("Route"))
    project = ScopedModelChoiceFilter(queryset=projects, label=_("Project"))
    handled = BooleanFilter(method="filter_handled", label=_("Handled"))
    date_from = django_filters.DateFilter(
        field_name="raised_at", lookup_expr="date__gte", label=_("Raised on or after")
    )
    date_to = django_filters.DateFilter(
        field_name="raised_at", lookup_expr="date__lte", label=_("Raised on or before")
    )

    class Meta:
        model = Anomaly
        fields = ["status", "priority", "source", "route", "project", "handled", "date_from",
                  "date_to"]  # fmt: skip

    def filter_handled(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(status=AnomalyStatus.HANDLED)
        return queryset.filter(status__in=UNHANDLED_ANOMALY_STATUSES)


def verb(summary: str, request=None, description: str = ""):
    return extend_schema(
        summary=summary,
        description=description
        or "Anomaly handlers (managers, dispatchers, quality analysts). 404 when you cannot "
        "see it, 403 when you may not, 409 when its status forbids this.",
        request=request,
        responses=SHOWS,
    )


@extend_schema_view(
    list=extend_schema(
        summary="List the anomalies you can see",
        description="`ordering` by raised_at, last_seen_at, priority or occurrences.",
        responses=s.AnomalySerializer(many=True),
    ),
    retrieve=extend_schema(summary="One anomaly", responses=SHOWS),
    create=extend_schema(
        summary="Report an anomaly on a round (its engineer, anomaly handlers)",
        description="An unhandled anomaly on the same checkpoint and item gets another "
        "occurrence instead of a duplicate. The route's rule opens its follow-up.",
        request=s.AnomalyReportSerializer,
        responses={201: s.AnomalySerializer, **ERRORS},
    ),
)
class AnomalyViewSet(ScopedModelViewSet):
    queryset = Anomaly.objects.all()
    serializer_class = s.AnomalySerializer
    filterset_class = AnomalyFilter
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = r"[0-9]+"
    ordering = ["-raised_at", "-id"]
    ordering_fields = ["raised_at", "last_seen_at", "priority", "occurrences"]
    ordering_aliases = {"priority": "priority_rank"}
    filter_backends = BACKENDS

    def get_queryset(self):
        return (
            Anomaly.objects.visible_to(self.request.user)
            .select_related("route", "checkpoint", "item", "raised_by", "work_order", "ticket")
            .annotate(priority_rank=priority_rank())
        )

    def can_write(self, obj=None) -> bool:
        user = self.request.user
        if obj is None and self.action == "create":
            return access.may_do_rounds(user) or access.may_handle_anomalies(user)
        return access.is_inspection_staff(user)

    def body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def show(self, anomaly, status: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=anomaly.pk)
        return Response(
            s.AnomalySerializer(fresh, context=self.get_serializer_context()).data, status
        )

    def _find(self, model, pk, name: str, **extra):
        found = model.objects.visible_to(self.request.user).filter(pk=pk, **extra).first()
        if found is None:
            raise ValidationFailed(fields={name: [_("No such object: %(pk)s.") % {"pk": pk}]})
        return found

    def create(self, request, *args, **kwargs):
        data = self.body(s.AnomalyReportSerializer)
        rnd = self._find(Round, data["round"], "round")
        checkpoint = self._find(Checkpoint, data["checkpoint"], "checkpoint")
        item = None
        if data.get("item"):
            item = self._find(CheckItem, data["item"], "item")
        anomaly = anomalies.report_anomaly(
            actor=request.user, round=rnd, checkpoint=checkpoint, item=item,
            description=data["description"], priority=data.get("priority"),
        )  # fmt: skip
        return self.show(anomaly, 201)

    @verb("Confirm the anomaly")
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self.show(anomalies.confirm_anomaly(actor=request.user, anomaly=self.get_object()))

    @verb("Dismiss the anomaly as a false alarm, with a reason", s.AnomalyDismissSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        anomaly = self.get_object()
        data = self.body(s.AnomalyDismissSerializer)
        return self.show(anomalies.dismiss_anomaly(actor=request.user, anomaly=anomaly, **data))

    @verb("Mark the anomaly handled, saying what was done", s.AnomalyHandleSerializer)
    @action(detail=True, methods=["post"])
    def handle(self, request, pk=None):
        anomaly = self.get_object()
        data = self.body(s.AnomalyHandleSerializer)
        return self.show(anomalies.handle_anomaly(actor=request.user, anomaly=anomaly, **data))

    @verb(
        "Open the follow-up work order or ticket",
        s.AnomalyFollowUpSerializer,
        description="By the route's rule unless `action` names one. Anomaly handlers, or the "
        "engineer who found it. Opening the same kind again returns the anomaly unchanged.",
    )
    @action(detail=True, methods=["post"], url_path="follow-up")
    def follow_up(self, request, pk=None):
        anomaly = self.get_object()
        data = self.body(s.AnomalyFollowUpSerializer)
        return self.show(
            anomalies.open_follow_up(actor=request.user, anomaly=anomaly, action=data.get("action"))
        )


router = SimpleRouter()
router.register("anomalies", AnomalyViewSet, basename="anomaly")
urlpatterns = router.urls
