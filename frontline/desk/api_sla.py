"""API for SLA policies and business calendars: thin viewsets over ``desk.sla_config``.

Operator staff read them; only admins (``Cap.MANAGE_DESK_CONFIG``) write (else 403);
anyone else sees nothing (a 404 for one record). A calendar's working periods and
closed days travel in its payload; when a write gives them, they replace the old ones.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from frontline.accounts.roles import Cap
from frontline.core.api import (
    DESTROY_RESPONSES,
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
)
from frontline.desk import sla_config
from frontline.desk.calendars import Calendar
from frontline.desk.models import BusinessCalendar, ClosedDay, SlaPolicy, WorkingPeriod
from frontline.desk.states import Severity, Tier
from frontline.sites.filters import ScopedModelChoiceFilter
from frontline.sites.models import Project

WRITE_METHODS = ["get", "post", "patch", "delete", "head", "options"]
CALENDAR_PREFETCH = ("periods", "closed_days")

# ---------------------------------------------------------------- serializers


class WorkingPeriodSerializer(StrictModelSerializer):
    class Meta:
        model = WorkingPeriod
        fields = ["weekday", "start", "end"]
        validators: list = []


class ClosedDaySerializer(StrictModelSerializer):
    class Meta:
        model = ClosedDay
        fields = ["date", "reason"]
        validators: list = []


class BusinessCalendarSerializer(StrictModelSerializer):
    periods = WorkingPeriodSerializer(many=True, required=False)
    closed_days = ClosedDaySerializer(many=True, required=False)
    rule = serializers.SerializerMethodField(help_text=_("The calendar's rule in words."))

    class Meta:
        model = BusinessCalendar
        fields = [
            "id",
            "name",
            "time_zone",
            "is_24x7",
            "use_china_holidays",
            "periods",
            "closed_days",
            "rule",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {"name": {"validators": []}}
        validators: list = []

    def get_rule(self, obj) -> str:
        return Calendar.from_model(obj).describe()


@extend_schema_field(OpenApiTypes.STR)
class TierChoiceField(serializers.ChoiceField):
    """A tier or "" (documented as a plain string: the tier enum is named by the ticket API)."""

    def __init__(self, **kwargs):
        super().__init__(choices=Tier.choices, allow_blank=True, **kwargs)


class SlaPolicySerializer(StrictModelSerializer):
    raise_tier_on_breach = TierChoiceField(
        required=False,
        help_text=_("Raise the ticket to this tier on breach: bot, l1, l2, l3, or empty."),
    )
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all())
    project_code = serializers.CharField(source="project.code", read_only=True)
    calendar = ScopedPrimaryKeyRelatedField(queryset=BusinessCalendar.objects.all())
    calendar_name = serializers.CharField(source="calendar.name", read_only=True)
    calendar_rule = serializers.SerializerMethodField()

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "project",
            "project_code",
            "severity",
            "calendar",
            "calendar_name",
            "calendar_rule",
            "first_response_minutes",
            "resolution_minutes",
            "warning_percent",
            "raise_tier_on_breach",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
        # (project, severity) is checked by the service, which also wins races, with a 400.
        validators: list = []

    def get_calendar_rule(self, obj) -> str:
        return Calendar.from_model(obj.calendar).describe()


# ---------------------------------------------------------------- filters


def _projects(request):
    return Project.objects.visible_to(getattr(request, "user", None))


def _calendars(request):
    return BusinessCalendar.objects.visible_to(getattr(request, "user", None))


class SlaPolicyFilter(FilterSet):
    project = ScopedModelChoiceFilter(queryset=_projects, label=_("Project"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"))
    calendar = ScopedModelChoiceFilter(queryset=_calendars, label=_("Calendar"))

    class Meta:
        model = SlaPolicy
        fields = ["project", "severity", "calendar"]


class BusinessCalendarFilter(FilterSet):
    is_24x7 = django_filters.BooleanFilter(label=_("24×7"))

    class Meta:
        model = BusinessCalendar
        fields = ["is_24x7"]


# ---------------------------------------------------------------- viewsets


@extend_schema_view(
    list=extend_schema(summary="List the SLA policies (project × severity)"),
    create=extend_schema(summary="Add an SLA policy (admins)"),
    partial_update=extend_schema(
        summary="Change an SLA policy; the open tickets it covers are recomputed"
    ),
    destroy=extend_schema(
        summary="Delete an SLA policy; its open tickets fall back to no SLA",
        responses=DESTROY_RESPONSES,
    ),
)
class SlaPolicyViewSet(ScopedModelViewSet):
    queryset = SlaPolicy.objects.select_related("project", "calendar").prefetch_related(
        *(f"calendar__{name}" for name in CALENDAR_PREFETCH)
    )
    serializer_class = SlaPolicySerializer
    filterset_class = SlaPolicyFilter
    write_capability = Cap.MANAGE_DESK_CONFIG
    http_method_names = WRITE_METHODS
    ordering_fields = ["project__code", "severity", "updated_at"]
    search_fields = ["project__code", "project__name", "calendar__name"]

    def perform_create(self, serializer):
        serializer.instance = sla_config.create_policy(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = sla_config.update_policy(
            actor=self.request.user, policy=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        sla_config.delete_policy(actor=self.request.user, policy=instance)


@extend_schema_view(
    list=extend_schema(summary="List the business calendars"),
    create=extend_schema(summary="Add a business calendar with its periods and closed days"),
    partial_update=extend_schema(
        summary="Change a business calendar (periods and closed days, when given, replace)"
    ),
    destroy=extend_schema(
        summary="Delete a business calendar no policy uses (else 409)",
        responses=DESTROY_RESPONSES,
    ),
)
class BusinessCalendarViewSet(ScopedModelViewSet):
    queryset = BusinessCalendar.objects.prefetch_related(*CALENDAR_PREFETCH)
    serializer_class = BusinessCalendarSerializer
    filterset_class = BusinessCalendarFilter
    write_capability = Cap.MANAGE_DESK_CONFIG
    http_method_names = WRITE_METHODS
    ordering_fields = ["name"]
    search_fields = ["name"]

    def perform_create(self, serializer):
        serializer.instance = sla_config.create_calendar(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = sla_config.update_calendar(
            actor=self.request.user, calendar=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        sla_config.delete_calendar(actor=self.request.user, calendar=instance)


router = SimpleRouter()
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
router.register("business-calendars", BusinessCalendarViewSet, basename="business-calendar")
urlpatterns = router.urls
