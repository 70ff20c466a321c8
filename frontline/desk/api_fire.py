"""API for the company-wide fire feed and the fire levels (severity levels).

``GET /api/v1/fire-feed/`` lists fire calls for operator staff (customers and partners
get a 404): the open ones by default, ``?state=closed`` for those closed in the last
seven days. ``/api/v1/severity-levels/`` is readable by every signed-in user
(customers see only name and description) and changed with PATCH by desk admins.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics, serializers
from rest_framework.routers import SimpleRouter

from frontline.accounts.models import Team, User
from frontline.accounts.roles import Cap
from frontline.core.api import (
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
)
from frontline.desk import fire
from frontline.desk.access import is_desk_staff
from frontline.desk.models import FireCall, FireSummons, SeverityLevel

# ---------------------------------------------------------------- fire feed


class FeedPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class FeedOrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FeedSummonsSerializer(serializers.ModelSerializer):
    user = FeedPersonSerializer()

    class Meta:
        model = FireSummons
        fields = ["user", "summoned", "joined_at"]


class FeedTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    severity = serializers.CharField()
    sla_state = serializers.CharField()
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    customer = FeedOrganizationSerializer()
    owner = FeedPersonSerializer()
    url = serializers.CharField(source="get_absolute_url")


class FireFeedCallSerializer(serializers.ModelSerializer):
    ticket = FeedTicketSerializer()
    level_name = serializers.SerializerMethodField()
    called_by = FeedPersonSerializer()
    age_seconds = serializers.SerializerMethodField()
    people = FeedSummonsSerializer(source="summons", many=True)
    joined_by_me = serializers.SerializerMethodField()

    class Meta:
        model = FireCall
        fields = [
            "id",
            "ticket",
            "level",
            "level_name",
            "message",
            "called_by",
            "created_at",
            "closed_at",
            "age_seconds",
            "people",
            "joined_by_me",
        ]

    def get_level_name(self, obj) -> str:
        return self.context["level_names"].get(obj.level, obj.level)

    def get_age_seconds(self, obj) -> int:
        end = obj.closed_at or self.context["now"]
        return max(int((end - obj.created_at).total_seconds()), 0)

    def get_joined_by_me(self, obj) -> bool:
        me = self.context["request"].user.pk
        return any(s.user_id == me and s.joined_at for s in obj.summons.all())


class FireFeedFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=[("open", "open"), ("closed", "closed")],
        method="filter_state",
        label="open (default) or closed in the last 7 days",
    )

    class Meta:
        model = FireCall
        fields = ["level"]

    def filter_state(self, queryset, name, value):
        return queryset  # applied in the view, where the default lives


@extend_schema(summary="Fire calls, open (default) or closed in the last 7 days (staff only)")
class FireFeedView(generics.ListAPIView):
    """The company-wide feed of calls for fire. Customers and partners get a 404."""

    serializer_class = FireFeedCallSerializer
    filterset_class = FireFeedFilter
    ordering_fields = ["created_at", "level"]
    ordering = ["-created_at"]

    def get_queryset(self):
        user = self.request.user
        if getattr(self, "swagger_fake_view", False):
            return FireCall.objects.none()
        if not is_desk_staff(user):
            raise exceptions.NotFound()
        qs = fire.feed_queryset(user)
        if self.request.query_params.get("state") == "closed":
            since = timezone.now() - dt.timedelta(days=fire.RECENT_DAYS)
            return qs.filter(closed_at__gte=since)
        return qs.filter(closed_at__isnull=True)

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        ctx.update(now=timezone.now(), level_names=fire.level_names())
        return ctx


# ---------------------------------------------------------------- severity levels


class SeverityLevelPublicSerializer(serializers.ModelSerializer):
    """What a customer sees of a level."""

    class Meta:
        model = SeverityLevel
        fields = ["id", "severity", "name", "description"]
        read_only_fields = fields


class SeverityLevelSerializer(StrictModelSerializer):
    summon_roles = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(fire.OPERATOR_ROLES)),
        required=False,
        max_length=20,
    )
    summon_teams = ScopedPrimaryKeyRelatedField(
        many=True, queryset=Team.objects.all(), required=False
    )
    summon_users = ScopedPrimaryKeyRelatedField(
        many=True, queryset=User.objects.all(), required=False
    )

    class Meta:
        model = SeverityLevel
        fields = [
            "id",
            "severity",
            "name",
            "description",
            "summon_roles",
            "summon_teams",
            "summon_users",
            "customer_may_choose",
        ]
        read_only_fields = ["id", "severity"]


class SeverityLevelFilter(django_filters.FilterSet):
    class Meta:
        model = SeverityLevel
        fields = ["severity", "customer_may_choose"]


@extend_schema_view(
    list=extend_schema(summary="The fire levels (S1 导弹 … S4 枪) and who each summons"),
    retrieve=extend_schema(summary="One fire level"),
    partial_update=extend_schema(
        summary="Change a level's name, description, summoned roles/teams/people (desk admins)"
    ),
)
class SeverityLevelViewSet(ScopedModelViewSet):
    queryset = SeverityLevel.objects.prefetch_related("summon_teams", "summon_users")
    serializer_class = SeverityLevelSerializer
    filterset_class = SeverityLevelFilter
    write_capability = Cap.MANAGE_DESK_CONFIG
    http_method_names = ["get", "patch", "head", "options"]
    ordering_fields = ["severity"]
    ordering = ["severity"]

    def get_queryset(self):
        if self.action == "list":
            fire.ensure_default_levels()
        qs = super().get_queryset()
        if not is_desk_staff(self.request.user):
            # Customers: names and descriptions only; who is summoned is internal.
            qs = SeverityLevel.objects.visible_to(self.request.user)
        return qs

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False) or is_desk_staff(self.request.user):
            return SeverityLevelSerializer
        return SeverityLevelPublicSerializer

    def perform_update(self, serializer):
        serializer.instance = fire.update_severity_level(
            actor=self.request.user, level=serializer.instance, **serializer.validated_data
        )


router = SimpleRouter()
router.register("severity-levels", SeverityLevelViewSet, basename="severity-level")

urlpatterns = [
    path("fire-feed/", FireFeedView.as_view(), name="fire-feed"),
    *router.urls,
]
