"""API for plan runs: ``POST /api/v1/dispatch/plans/`` starts one (202 with its URL),
``GET`` shows progress and, when done, the routes, KPIs and what was left out, and
``POST /api/v1/dispatch/plans/{id}/apply/`` dispatches all or some of its visits.

Field staff read plans; dispatchers (``Cap.DISPATCH_WORK``) start and apply them
(else 403, nothing changes); anyone else sees nothing (404).
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from frontline.accounts.models import Team
from frontline.accounts.roles import Cap
from frontline.core.api import (
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
)
from frontline.dispatch import planning
from frontline.dispatch.models import PlanAssignment, PlanRun, PlanStatus


class PlanAssignmentSerializer(serializers.ModelSerializer):
    work_order_number = serializers.CharField(source="work_order.number", read_only=True)

    class Meta:
        model = PlanAssignment
        fields = ["id", "work_order", "work_order_number", "engineer", "sequence", "arrival",
                  "start", "end", "travel_km", "applied"]  # fmt: skip
        read_only_fields = fields


class PlanRunSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = PlanRun
        fields = ["id", "url", "day", "team", "status", "time_limit_s", "auto_apply", "progress",
                  "message", "error", "kpis", "created_by", "created_at", "started_at",
                  "finished_at", "applied_at", "applied_by"]  # fmt: skip
        read_only_fields = fields

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()


class PlanRunDetailSerializer(PlanRunSerializer):
    assignments = PlanAssignmentSerializer(many=True, read_only=True)
    left_out = serializers.JSONField(read_only=True)

    class Meta(PlanRunSerializer.Meta):
        fields = [*PlanRunSerializer.Meta.fields, "assignments", "left_out"]
        read_only_fields = fields


class PlanStartSerializer(StrictModelSerializer):
    team = ScopedPrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    time_limit_s = serializers.IntegerField(
        min_value=planning.MIN_TIME_LIMIT, max_value=planning.MAX_TIME_LIMIT, default=30
    )
    auto_apply = serializers.BooleanField(default=False)

    class Meta:
        model = PlanRun
        fields = ["day", "team", "time_limit_s", "auto_apply"]


class ApplySerializer(serializers.Serializer):
    assignments = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=5000,
        help_text=_("The visits to apply; leave out to apply the whole plan."),
    )


APPLY_RESPONSE = inline_serializer(
    "PlanApplyResult",
    {
        "status": serializers.CharField(),
        "applied": serializers.ListField(child=serializers.IntegerField()),
        "skipped": serializers.ListField(child=serializers.DictField()),
    },
)


class PlanRunFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices, label=_("Status"))
    day = django_filters.DateFilter(label=_("Day"))

    class Meta:
        model = PlanRun
        fields = ["status", "day"]


@extend_schema_view(
    list=extend_schema(summary="List plan runs, newest first"),
    retrieve=extend_schema(
        summary="One plan run: progress while it runs; routes, KPIs and left-out orders after"
    ),
    create=extend_schema(
        summary="Start planning a day (202: poll the plan's URL for progress and result)",
        request=PlanStartSerializer,
        responses={202: PlanRunSerializer},
    ),
)
class PlanRunViewSet(ScopedModelViewSet):
    queryset = PlanRun.objects.select_related("team")
    serializer_class = PlanRunSerializer
    write_capability = Cap.DISPATCH_WORK
    http_method_names = ["get", "post", "head", "options"]
    ordering = ["-created_at", "-id"]
    ordering_fields = ["created_at", "day"]
    filterset_class = PlanRunFilter

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related("assignments__work_order")
        return qs

    def get_serializer_class(self):
        if self.action == "retrieve":
            return PlanRunDetailSerializer
        if self.action == "create":
            return PlanStartSerializer
        return PlanRunSerializer

    def create(self, request, *args, **kwargs):
        payload = PlanStartSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        plan = planning.start_plan(actor=request.user, **payload.validated_data)
        plan.refresh_from_db()
        body = PlanRunSerializer(plan, context={"request": request}).data
        url = request.build_absolute_uri(f"{request.path.rstrip('/')}/{plan.pk}/")
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    @extend_schema(
        summary="Apply the plan (all visits, or the given ones) through dispatch",
        request=ApplySerializer,
        responses={200: APPLY_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        plan = self.get_object()
        payload = ApplySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = planning.apply_plan(
            actor=request.user, plan=plan, assignment_ids=payload.validated_data.get("assignments")
        )
        plan.refresh_from_db()
        return Response({
            "status": plan.status,
            "applied": [row.pk for row in result.applied],
            "skipped": [{"assignment": row.pk, "work_order": row.work_order_id,
                         "number": row.work_order.number, "reason": reason}
                        for row, reason in result.skipped],
        })  # fmt: skip


router = SimpleRouter()
router.register("plans", PlanRunViewSet, basename="plan")
urlpatterns = router.urls
