"""API shapes for routes, checkpoints, check items, schedules, SOPs and quality schemes.

Staff read everything; a customer reads its own routes without the operator's
internals (QR values, teams, engineers, SOP and scheme ids). Write serializers are
strict (an unknown field is a 400) and every id is checked against the caller's scoping.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from frontline.accounts.models import Team, User
from frontline.core.api import ScopedPrimaryKeyRelatedField
from frontline.field.serializers import StrictSerializer
from frontline.field.states import Priority, WorkOrderType
from frontline.inspections.models import (
    CheckItem,
    Checkpoint,
    QualityScheme,
    Route,
    Schedule,
    Sop,
    SopKpi,
    SopVersion,
)
from frontline.inspections.states import (
    AnomalyAction,
    Comparator,
    ItemKind,
    KpiKind,
    KpiMetric,
    ScheduleKind,
)
from frontline.sites.models import Asset, Project, Site


def _scoped(model, **kwargs):
    return ScopedPrimaryKeyRelatedField(queryset=model.objects.all(), **kwargs)


# ---------------------------------------------------------------- reads


class RouteCheckItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckItem
        fields = ["id", "checkpoint", "position", "name", "kind", "unit", "normal_min",
                  "normal_max", "choices", "abnormal_choices", "normal_answer",
                  "anomaly_when_abnormal", "photo_required", "required", "is_active"]  # fmt: skip
        read_only_fields = fields


class RouteCheckpointSerializer(serializers.ModelSerializer):
    asset_name = serializers.CharField(source="asset.name", read_only=True, allow_null=True)
    items = RouteCheckItemSerializer(many=True, read_only=True)

    class Meta:
        model = Checkpoint
        fields = ["id", "route", "position", "code", "name", "location", "asset", "asset_name",
                  "qr_value", "is_active", "items"]  # fmt: skip
        read_only_fields = fields


class CustomerRouteCheckpointSerializer(RouteCheckpointSerializer):
    narrows = RouteCheckpointSerializer  # the staff shape (frontline.core.schema)

    class Meta(RouteCheckpointSerializer.Meta):
        fields = ["id", "route", "position", "code", "name", "location", "asset", "asset_name",
                  "is_active", "items"]  # fmt: skip
        read_only_fields = fields


ROUTE_LIST_FIELDS = ["id", "project", "project_code", "site", "site_name", "code", "name",
                     "expected_minutes", "is_active", "checkpoint_count"]  # fmt: skip
STAFF_ROUTE_FIELDS = ["sop_version", "quality_scheme", "anomaly_action", "anomaly_priority",
                      "anomaly_team", "created_at", "updated_at"]  # fmt: skip


class RouteSerializer(serializers.ModelSerializer):
    project_code = serializers.CharField(source="project.code", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True)
    checkpoint_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Route
        fields = [*ROUTE_LIST_FIELDS, *STAFF_ROUTE_FIELDS]
        read_only_fields = fields


class RouteDetailSerializer(RouteSerializer):
    checkpoints = serializers.SerializerMethodField()

    class Meta(RouteSerializer.Meta):
        fields = [*ROUTE_LIST_FIELDS, "description", *STAFF_ROUTE_FIELDS, "checkpoints"]
        read_only_fields = fields

    @extend_schema_field(RouteCheckpointSerializer(many=True))
    def get_checkpoints(self, obj):
        return RouteCheckpointSerializer(obj.checkpoints.all(), many=True).data


class CustomerRouteSerializer(RouteSerializer):
    narrows = RouteSerializer  # the staff shape (frontline.core.schema)

    class Meta(RouteSerializer.Meta):
        fields = ROUTE_LIST_FIELDS
        read_only_fields = fields


class CustomerRouteDetailSerializer(RouteSerializer):
    narrows = RouteDetailSerializer  # the staff shape (frontline.core.schema)

    checkpoints = serializers.SerializerMethodField()

    class Meta(RouteSerializer.Meta):
        fields = [*ROUTE_LIST_FIELDS, "description", "checkpoints"]
        read_only_fields = fields

    @extend_schema_field(CustomerRouteCheckpointSerializer(many=True))
    def get_checkpoints(self, obj):
        return CustomerRouteCheckpointSerializer(obj.checkpoints.all(), many=True).data


SCHEDULE_FIELDS = ["id", "route", "kind", "times", "weekdays", "every_hours", "window_minutes",
                   "starts_on", "ends_on", "is_active"]  # fmt: skip


class ScheduleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Schedule
        fields = [*SCHEDULE_FIELDS, "team", "engineer", "offer_for_grab", "generated_until",
                  "created_at"]  # fmt: skip
        read_only_fields = fields


class CustomerScheduleSerializer(serializers.ModelSerializer):
    narrows = ScheduleSerializer  # the staff shape (frontline.core.schema)

    class Meta:
        model = Schedule
        fields = SCHEDULE_FIELDS
        read_only_fields = fields


class QualitySchemeSerializer(serializers.ModelSerializer):
    total_weight = serializers.IntegerField(read_only=True)

    class Meta:
        model = QualityScheme
        fields = ["id", "name", "coverage_weight", "timeliness_weight", "anomalies_weight",
                  "pace_weight", "photos_weight", "total_weight", "min_seconds_per_point",
                  "standard", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields


class SopKpiSerializer(serializers.ModelSerializer):
    class Meta:
        model = SopKpi
        fields = ["kind", "metric", "comparator", "target"]
        read_only_fields = fields


class SopVersionSerializer(serializers.ModelSerializer):
    kpis = SopKpiSerializer(many=True, read_only=True)

    class Meta:
        model = SopVersion
        fields = ["id", "sop", "number", "body", "effective_from", "created_by", "created_at",
                  "kpis"]  # fmt: skip
        read_only_fields = fields


class SopSerializer(serializers.ModelSerializer):
    latest_version = serializers.IntegerField(read_only=True, allow_null=True)
    # Blank for an SOP that applies to no work-order type: the schema must admit "".
    work_order_type = serializers.ChoiceField(
        WorkOrderType.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty for an inspection SOP attached to routes.",
    )

    class Meta:
        model = Sop
        fields = ["id", "code", "title", "work_order_type", "is_active", "latest_version",
                  "created_at"]  # fmt: skip
        read_only_fields = fields


class ImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    routes_created = serializers.IntegerField()
    routes_updated = serializers.IntegerField()
    checkpoints_created = serializers.IntegerField()
    checkpoints_updated = serializers.IntegerField()
    items_created = serializers.IntegerField()
    items_updated = serializers.IntegerField()


# ---------------------------------------------------------------- writes


class RouteWriteSerializer(StrictSerializer):
    project = _scoped(Project)
    site = _scoped(Site)
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    expected_minutes = serializers.IntegerField(required=False, min_value=1, max_value=24 * 60)
    sop_version = _scoped(SopVersion, required=False, allow_null=True)
    quality_scheme = _scoped(QualityScheme, required=False, allow_null=True)
    anomaly_action = serializers.ChoiceField(AnomalyAction.choices, required=False)
    anomaly_priority = serializers.ChoiceField(Priority.choices, required=False)
    anomaly_team = _scoped(Team, required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


class CheckpointWriteSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    location = serializers.CharField(required=False, allow_blank=True, max_length=200)
    asset = _scoped(Asset, required=False, allow_null=True)
    position = serializers.IntegerField(required=False, min_value=1, max_value=10_000)
    is_active = serializers.BooleanField(required=False)


class CheckpointMoveSerializer(StrictSerializer):
    position = serializers.IntegerField(min_value=1, max_value=10_000)


class CheckItemWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(ItemKind.choices)
    unit = serializers.CharField(required=False, allow_blank=True, max_length=20)
    normal_min = serializers.DecimalField(14, 4, required=False, allow_null=True)
    normal_max = serializers.DecimalField(14, 4, required=False, allow_null=True)
    choices = serializers.ListField(child=serializers.CharField(max_length=100), required=False,
                                    max_length=30)  # fmt: skip
    abnormal_choices = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=30
    )
    normal_answer = serializers.BooleanField(required=False)
    anomaly_when_abnormal = serializers.BooleanField(required=False)
    photo_required = serializers.BooleanField(required=False)
    required = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


class ScheduleWriteSerializer(StrictSerializer):
    route = _scoped(Route)
    kind = serializers.ChoiceField(ScheduleKind.choices)
    times = serializers.ListField(child=serializers.CharField(max_length=5), required=False,
                                  max_length=24)  # fmt: skip
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False, max_length=7
    )
    every_hours = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                           max_value=168)  # fmt: skip
    window_minutes = serializers.IntegerField(required=False, min_value=5, max_value=7 * 24 * 60)
    team = _scoped(Team, required=False, allow_null=True)
    engineer = _scoped(User, required=False, allow_null=True)
    offer_for_grab = serializers.BooleanField(required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


class QualitySchemeWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    coverage_weight = serializers.IntegerField(required=False, min_value=0, max_value=100)
    timeliness_weight = serializers.IntegerField(required=False, min_value=0, max_value=100)
    anomalies_weight = serializers.IntegerField(required=False, min_value=0, max_value=100)
    pace_weight = serializers.IntegerField(required=False, min_value=0, max_value=100)
    photos_weight = serializers.IntegerField(required=False, min_value=0, max_value=100)
    min_seconds_per_point = serializers.IntegerField(required=False, min_value=0,
                                                     max_value=3600)  # fmt: skip
    standard = serializers.IntegerField(required=False, min_value=0, max_value=100)


class SopWriteSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40)
    title = serializers.CharField(max_length=200)
    work_order_type = serializers.ChoiceField(WorkOrderType.choices, required=False,
                                              allow_blank=True)  # fmt: skip
    is_active = serializers.BooleanField(required=False)


class SopKpiWriteSerializer(StrictSerializer):
    kind = serializers.ChoiceField(KpiKind.choices)
    metric = serializers.ChoiceField(KpiMetric.choices)
    comparator = serializers.ChoiceField(Comparator.choices)
    target = serializers.DecimalField(10, 4)


class SopVersionWriteSerializer(StrictSerializer):
    body = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    effective_from = serializers.DateField(required=False)
    kpis = SopKpiWriteSerializer(many=True, required=False)


class ImportUploadSerializer(StrictSerializer):
    file = serializers.FileField()
