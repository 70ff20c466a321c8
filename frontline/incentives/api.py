"""Incentives API: point rules, the points ledger and balance, the leaderboard, and
redemptions. Thin viewsets over the services; reads go through ``visible_to``.

Anyone who does not take part in incentives (customers, suppliers, outsiders) gets a
403 on every endpoint; another engineer's entry or redemption is a 404.
"""

from __future__ import annotations

import django_filters
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from frontline.accounts.models import Team
from frontline.accounts.roles import Cap
from frontline.core.api import (
    ErrorSerializer,
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
)
from frontline.core.errors import ValidationFailed
from frontline.core.rest import parse_id
from frontline.desk.exports import XLSX_CONTENT_TYPE
from frontline.incentives import access, leaderboard, redemptions, services, wallets
from frontline.incentives.models import IncentiveSettings, LedgerEntry, PointRule, Redemption
from frontline.incentives.states import EntryKind, RedemptionStatus, RuleEvent
from frontline.sites.models import Project

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class ParticipantsOnly:
    """Mixed into the viewsets: those who do not take part get a 403 before anything."""

    def check_permissions(self, request):
        super().check_permissions(request)
        if not access.takes_part(request.user):
            raise exceptions.PermissionDenied()


# ---------------------------------------------------------------- point rules


class PointRuleSerializer(StrictModelSerializer):
    project = ScopedPrimaryKeyRelatedField(
        queryset=Project.objects.all(), required=False, allow_null=True
    )
    team = ScopedPrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = PointRule
        fields = [
            "id", "name", "event", "threshold", "points", "coins", "project", "team",
            "is_active", "valid_from", "valid_until", "description", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "updated_at"]
        # The services validate the whole rule (signs, thresholds, periods).
        extra_kwargs = {"points": {"min_value": None, "max_value": None}}


class PointRuleFilter(FilterSet):
    event = django_filters.ChoiceFilter(choices=RuleEvent.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = PointRule
        fields = ["event", "is_active"]


@extend_schema_view(
    list=extend_schema(summary="List point rules (operator staff)"),
    create=extend_schema(summary="Add a point rule (managers)"),
    partial_update=extend_schema(summary="Change a point rule (managers)"),
)
class PointRuleViewSet(ParticipantsOnly, ScopedModelViewSet):
    queryset = PointRule.objects.select_related("project", "team")
    serializer_class = PointRuleSerializer
    filterset_class = PointRuleFilter
    write_capability = Cap.MANAGE_POINT_RULES
    ordering = ["event", "name", "id"]
    ordering_fields = ["name", "event", "points", "updated_at"]
    search_fields = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.create_rule(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_rule(
            actor=self.request.user, rule=serializer.instance, **serializer.validated_data
        )


# ---------------------------------------------------------------- the ledger


class LedgerEntrySerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.display_name", read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True, allow_null=True)
    # Blank for a manual correction (no rule event): the schema must admit "".
    event = serializers.ChoiceField(RuleEvent.choices, allow_blank=True, read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id", "user", "user_name", "rule", "rule_name", "event", "kind", "source_type",
            "source_id", "revision", "points", "coins", "reason", "occurred_at", "created_at",
            "team", "project",
        ]  # fmt: skip
        read_only_fields = fields


def month_filter(field: str):
    def apply(queryset, name, value):
        start, end = leaderboard.month_bounds(leaderboard.parse_month(value))
        return queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})

    return apply


class LedgerEntryFilter(FilterSet):
    user = django_filters.NumberFilter(field_name="user_id")
    kind = django_filters.ChoiceFilter(choices=EntryKind.choices)
    event = django_filters.ChoiceFilter(choices=RuleEvent.choices)
    month = django_filters.CharFilter(
        method=lambda qs, name, value: month_filter("occurred_at")(qs, name, value),
        help_text="YYYY-MM, local (Asia/Shanghai) month of the event",
    )

    class Meta:
        model = LedgerEntry
        fields = ["user", "kind", "event", "month"]


class CorrectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class BalanceSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    coins = serializers.DecimalField(max_digits=14, decimal_places=2)
    pending_coins = serializers.DecimalField(max_digits=14, decimal_places=2)
    available_coins = serializers.DecimalField(max_digits=14, decimal_places=2)
    coin_rate = serializers.DecimalField(max_digits=12, decimal_places=4)
    currency = serializers.CharField()


def balance_of(user) -> dict:
    points, coins = wallets.balance_of(user)
    pending = redemptions.pending_coins(user)
    settings = IncentiveSettings.current()
    return {
        "points": points,
        "coins": coins,
        "pending_coins": pending,
        "available_coins": max(coins - pending, 0),
        "coin_rate": settings.coin_rate,
        "currency": settings.currency,
    }


@extend_schema_view(
    list=extend_schema(summary="Points and coins entries you may see (your own; managers: all)"),
    retrieve=extend_schema(summary="One ledger entry"),
    create=extend_schema(exclude=True),  # always 405: entries are written by services
)
class LedgerEntryViewSet(ParticipantsOnly, ScopedModelViewSet):
    queryset = LedgerEntry.objects.select_related("user", "rule")
    serializer_class = LedgerEntrySerializer
    filterset_class = LedgerEntryFilter
    # POST only for the ``correct`` action: the ledger is written by services, never here.
    http_method_names = ["get", "post", "head", "options"]
    write_capability = Cap.MANAGE_POINT_RULES
    ordering = ["-occurred_at", "-id"]
    ordering_fields = ["occurred_at", "points", "coins"]

    def create(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)

    @extend_schema(
        summary="Reverse an award or penalty with a correction entry (managers)",
        description="The entry stays; a new correction entry takes its amounts back. "
        "403 unless you manage point rules; 409 when it was already reversed.",
        request=CorrectSerializer,
        responses={201: LedgerEntrySerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        entry = self.get_object()
        body = CorrectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fix = services.correct_entry(actor=request.user, entry=entry, **body.validated_data)
        fix = LedgerEntry.objects.select_related("user", "rule").get(pk=fix.pk)
        return Response(self.get_serializer(fix).data, status=201)

    @extend_schema(summary="Your own balance", responses={200: BalanceSerializer, **ERRORS})
    @action(detail=False, methods=["get"])
    def balance(self, request):
        return Response(BalanceSerializer(balance_of(request.user)).data)


# ---------------------------------------------------------------- leaderboard


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    points = serializers.IntegerField()
    coins = serializers.DecimalField(max_digits=14, decimal_places=2)
    rounds_completed = serializers.IntegerField()


class LeaderboardSerializer(serializers.Serializer):
    month = serializers.CharField()
    team = serializers.IntegerField(allow_null=True)
    project = serializers.IntegerField(allow_null=True)
    results = LeaderboardRowSerializer(many=True)


def scoped_choice(model, user, raw, name: str):
    """An id from the query string that must name an object the user can see (else 400)."""
    if raw in (None, ""):
        return None
    pk = parse_id(raw)
    obj = model.objects.visible_to(user).filter(pk=pk).first() if pk else None
    if obj is None:
        raise ValidationFailed(fields={name: [_("No such object: %(pk)s.") % {"pk": raw[:30]}]})
    return obj


class LeaderboardApi(APIView):
    PARAMS = {"month", "team", "project", "limit"}

    @extend_schema(
        operation_id="incentives_leaderboard",
        summary="The month's ranking by points, company-wide or within a team or project",
        parameters=[
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM (default: this month)"),
            OpenApiParameter("team", OpenApiTypes.INT, description="rank within this team"),
            OpenApiParameter("project", OpenApiTypes.INT, description="rank within this project"),
            OpenApiParameter("limit", OpenApiTypes.INT, description="top N, 1–200 (default 50)"),
        ],
        responses={200: LeaderboardSerializer, **ERRORS},
    )  # fmt: skip
    def get(self, request):
        if not access.takes_part(request.user):
            raise exceptions.PermissionDenied()
        q = request.query_params
        unknown = set(q) - self.PARAMS
        if unknown:
            raise ValidationFailed(fields={n: [_("Unknown query parameter.")] for n in unknown})
        month = leaderboard.parse_month(q.get("month"))
        team = scoped_choice(Team, request.user, q.get("team"), "team")
        project = scoped_choice(Project, request.user, q.get("project"), "project")
        limit = q.get("limit", "50")
        if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= leaderboard.MAX_LIMIT):
            raise ValidationFailed(fields={"limit": [_("Give a whole number from 1 to 200.")]})
        rows = leaderboard.ranking(
            viewer=request.user, month=month, team=team, project=project, limit=int(limit)
        )
        data = {
            "month": month.strftime("%Y-%m"),
            "team": team.pk if team else None,
            "project": project.pk if project else None,
            "results": [r.__dict__ for r in rows],
        }
        return Response(LeaderboardSerializer(data).data)


# ---------------------------------------------------------------- redemptions


class RedemptionSerializer(StrictModelSerializer):
    user_name = serializers.CharField(source="user.display_name", read_only=True)
    coins = serializers.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        model = Redemption
        fields = [
            "id", "user", "user_name", "coins", "rate", "cash_amount", "currency", "status",
            "note", "requested_at", "decided_by", "decided_at", "reason", "paid_at",
            "exported_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "user", "rate", "cash_amount", "currency", "status", "requested_at",
            "decided_by", "decided_at", "reason", "paid_at", "exported_at",
        ]  # fmt: skip


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class RedemptionFilter(FilterSet):
    user = django_filters.NumberFilter(field_name="user_id")
    status = django_filters.ChoiceFilter(choices=RedemptionStatus.choices)
    month = django_filters.CharFilter(
        method=lambda qs, name, value: month_filter("requested_at")(qs, name, value),
        help_text="YYYY-MM, local month of the request",
    )

    class Meta:
        model = Redemption
        fields = ["user", "status", "month"]


def decision(summary: str, request=None):
    return extend_schema(
        summary=summary,
        description="403 unless you approve redemptions; 409 when it was already decided.",
        request=request,
        responses={200: RedemptionSerializer, **ERRORS},
    )


@extend_schema_view(
    list=extend_schema(summary="Redemptions you may see (your own; managers: all)"),
    create=extend_schema(summary="Ask to turn some of your coins into cash"),
)
class RedemptionViewSet(ParticipantsOnly, ScopedModelViewSet):
    queryset = Redemption.objects.select_related("user", "decided_by")
    serializer_class = RedemptionSerializer
    filterset_class = RedemptionFilter
    http_method_names = ["get", "post", "head", "options"]
    ordering = ["-requested_at", "-id"]
    ordering_fields = ["requested_at", "coins", "status"]

    def can_write(self, obj=None) -> bool:
        # Anyone taking part may ask; the services decide who may decide (403).
        return access.takes_part(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = redemptions.request_redemption(
            actor=self.request.user, **serializer.validated_data
        )

    def show(self, obj):
        return Response(self.get_serializer(obj).data)

    @decision("Approve: the coins leave the engineer's wallet (managers)")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self.show(
            redemptions.approve_redemption(actor=request.user, redemption=self.get_object())
        )

    @decision("Reject with a reason (managers)", RejectSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self.show(
            redemptions.reject_redemption(
                actor=request.user, redemption=self.get_object(), **body.validated_data
            )
        )

    @decision("Payroll has paid it (managers)")
    @action(detail=True, methods=["post"])
    def paid(self, request, pk=None):
        return self.show(redemptions.mark_paid(actor=request.user, redemption=self.get_object()))

    @extend_schema(
        summary="Approved and paid redemptions as an Excel workbook for payroll (managers)",
        description="Marks the exported redemptions as exported.",
        responses={(200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY, 403: ErrorSerializer},
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        qs = self.filter_queryset(self.get_queryset())
        data = redemptions.payroll_workbook(actor=request.user, redemptions=qs)
        response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = 'attachment; filename="redemptions.xlsx"'
        return response


router = SimpleRouter()
router.register("point-rules", PointRuleViewSet, basename="point-rule")
router.register("points", LedgerEntryViewSet, basename="point")
router.register("redemptions", RedemptionViewSet, basename="redemption")
urlpatterns = router.urls
