"""Serializers for rounds, their visits and readings, and anomalies (API and mobile view).

Read shapes name people by display name only. A checkpoint's QR value is never sent:
the phone posts what it scanned and the server matches it, so a tag has to be scanned
on site to count as scanned.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers

from frontline.field.states import Priority
from frontline.inspections.models import (
    Anomaly,
    CheckItem,
    Checkpoint,
    PointVisit,
    Reading,
    Round,
)
from frontline.inspections.states import AnomalyAction, SkipReason


def _name(user) -> str:
    return (user.display_name or "") if user is not None else ""


class StrictSerializer(serializers.Serializer):
    """A request body: unknown keys are a 400, not silently dropped."""

    extra_prefixes: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = {
                k: [_("Unknown field.")]
                for k in data.keys()
                if k not in self.fields and not k.startswith(self.extra_prefixes or ("\0",))
            }
            if unknown:
                raise exceptions.ValidationError(unknown)
        return super().to_internal_value(data)


# ---------------------------------------------------------------- reads


class CheckItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckItem
        fields = ["id", "position", "name", "kind", "unit", "normal_min", "normal_max",
                  "choices", "abnormal_choices", "normal_answer", "photo_required",
                  "required"]  # fmt: skip
        read_only_fields = fields


class RoundCheckpointSerializer(serializers.ModelSerializer):
    asset_name = serializers.SerializerMethodField()
    items = CheckItemSerializer(many=True, read_only=True, source="active_items")

    class Meta:
        model = Checkpoint
        fields = ["id", "position", "code", "name", "location", "asset", "asset_name", "items"]
        read_only_fields = fields

    def get_asset_name(self, obj) -> str:
        return obj.asset.name if obj.asset_id else ""


class RoundReadingSerializer(serializers.ModelSerializer):
    item_name = serializers.CharField(source="item.name", read_only=True)
    value = serializers.CharField(source="display_value", read_only=True)
    has_photo = serializers.SerializerMethodField()

    class Meta:
        model = Reading
        fields = ["id", "item", "item_name", "value", "number", "answer", "text", "has_photo",
                  "is_abnormal"]  # fmt: skip
        read_only_fields = fields

    def get_has_photo(self, obj) -> bool:
        return bool(obj.photo)


class PointVisitSerializer(serializers.ModelSerializer):
    checkpoint_code = serializers.CharField(source="checkpoint.code", read_only=True)
    by_name = serializers.SerializerMethodField()
    readings = RoundReadingSerializer(many=True, read_only=True)
    # Blank unless the point was skipped: the schema must admit "".
    skip_reason = serializers.ChoiceField(SkipReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = PointVisit
        fields = ["id", "round", "checkpoint", "checkpoint_code", "client_id", "status",
                  "skip_reason", "note", "scanned", "started_at", "recorded_at", "received_at",
                  "by", "by_name", "readings"]  # fmt: skip
        read_only_fields = fields

    def get_by_name(self, obj) -> str:
        return _name(obj.by)


class RoundSerializer(serializers.ModelSerializer):
    route_code = serializers.CharField(source="route.code", read_only=True)
    route_name = serializers.CharField(source="route.name", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    team_name = serializers.SerializerMethodField()

    class Meta:
        model = Round
        fields = ["id", "route", "route_code", "route_name", "project", "project_name",
                  "schedule", "status", "window_start", "window_end", "team", "team_name",
                  "assignee", "assignee_name", "offered", "started_at", "finished_at",
                  "points_planned", "points_visited", "points_skipped", "quality_score",
                  "quality_computed"]  # fmt: skip
        read_only_fields = fields

    def get_assignee_name(self, obj) -> str:
        return _name(obj.assignee)

    def get_team_name(self, obj) -> str:
        return obj.team.name if obj.team_id else ""


class RoundDetailSerializer(RoundSerializer):
    """A round with what the phone needs to walk it: the route's checkpoints and items,
    and what was recorded so far."""

    checkpoints = RoundCheckpointSerializer(
        many=True, read_only=True, source="route.active_checkpoints"
    )
    visits = PointVisitSerializer(many=True, read_only=True, source="all_visits")
    expected_minutes = serializers.IntegerField(source="route.expected_minutes", read_only=True)

    class Meta(RoundSerializer.Meta):
        fields = [*RoundSerializer.Meta.fields, "expected_minutes", "quality_parts",
                  "quality_adjust_reason", "quality_adjusted_at", "checkpoints", "visits"]  # fmt: skip
        read_only_fields = fields


class AnomalySerializer(serializers.ModelSerializer):
    route_code = serializers.CharField(source="route.code", read_only=True)
    checkpoint_code = serializers.CharField(source="checkpoint.code", read_only=True)
    checkpoint_name = serializers.CharField(source="checkpoint.name", read_only=True)
    item_name = serializers.SerializerMethodField()
    raised_by_name = serializers.SerializerMethodField()
    work_order_number = serializers.SerializerMethodField()
    ticket_number = serializers.SerializerMethodField()

    class Meta:
        model = Anomaly
        fields = ["id", "route", "route_code", "project", "checkpoint", "checkpoint_code",
                  "checkpoint_name", "item", "item_name", "round", "visit", "source", "status",
                  "is_handled", "priority", "description", "value", "occurrences", "raised_at",
                  "last_seen_at", "raised_by_name", "confirmed_at", "handled_at", "resolution",
                  "work_order", "work_order_number", "ticket", "ticket_number"]  # fmt: skip
        read_only_fields = fields

    def get_item_name(self, obj) -> str:
        return obj.item.name if obj.item_id else ""

    def get_raised_by_name(self, obj) -> str:
        return _name(obj.raised_by)

    def get_work_order_number(self, obj) -> str:
        return obj.work_order.number if obj.work_order_id else ""

    def get_ticket_number(self, obj) -> str:
        return obj.ticket.number if obj.ticket_id else ""


# ---------------------------------------------------------------- writes


class RoundPointRequestSerializer(StrictSerializer):
    """Which checkpoint: its id, its code on the route, or the scanned QR value."""

    checkpoint = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    checkpoint_code = serializers.CharField(required=False, max_length=40)
    qr = serializers.CharField(required=False, max_length=64)
    client_id = serializers.UUIDField(required=False, allow_null=True)
    recorded_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def validate(self, attrs):
        given = [
            k for k in ("checkpoint", "checkpoint_code", "qr") if attrs.get(k) not in (None, "")
        ]
        if len(given) != 1:
            raise exceptions.ValidationError(
                {"checkpoint": [_("Give the checkpoint's id, its code or the scanned QR value.")]}
            )
        return attrs


class RoundVisitRequestSerializer(RoundPointRequestSerializer):
    """``readings``: [{"item": id, "value": number | true/false | text}]; in a multipart
    request, a JSON text, with photos as files named ``photo_<item id>``."""

    extra_prefixes = ("photo_",)
    readings = serializers.JSONField(required=False)
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    scanned = serializers.BooleanField(required=False, default=False)


class RoundSkipRequestSerializer(RoundPointRequestSerializer):
    reason = serializers.ChoiceField(choices=SkipReason.choices)


class RoundAtSerializer(StrictSerializer):
    at = serializers.DateTimeField(required=False, allow_null=True)


class RoundReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class RoundAdjustScoreSerializer(StrictSerializer):
    score = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    reason = serializers.CharField(max_length=1000)


class RoundCreateSerializer(StrictSerializer):
    route = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    assignee = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                        max_value=2**63 - 1)  # fmt: skip
    team = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                    max_value=2**63 - 1)  # fmt: skip


class AnomalyReportSerializer(StrictSerializer):
    round = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    checkpoint = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    item = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                    max_value=2**63 - 1)  # fmt: skip
    description = serializers.CharField(max_length=2000)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True)


class AnomalyDismissSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class AnomalyHandleSerializer(StrictSerializer):
    resolution = serializers.CharField(max_length=2000)


class AnomalyFollowUpSerializer(StrictSerializer):
    action = serializers.ChoiceField(
        choices=[(AnomalyAction.WORK_ORDER, AnomalyAction.WORK_ORDER.label),
                 (AnomalyAction.TICKET, AnomalyAction.TICKET.label)],
        required=False, allow_null=True,
    )  # fmt: skip
