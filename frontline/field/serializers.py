"""API shapes for work orders, their timeline, checklist, photos and grab offers.

Three readers, three shapes. Operator staff see everything. A partner outlet sees the
work it was sent, without the operator's internals (ticket, project, team, how it was
dispatched, who created it, the check-in distance and its "far from the site" flag).
A customer sees what its portal shows: status, appointment, the engineer's name (never
an id or email), ETA, the service report, photos and public events — with each event's
data reduced to what the customer may read. Write serializers are strict: an unknown
field is a 400, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers

from frontline.accounts.models import Organization, Skill, Team, User
from frontline.core.api import ScopedPrimaryKeyRelatedField
from frontline.desk.models import Ticket
from frontline.field.models import (
    ChecklistItem,
    GrabOffer,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderPhoto,
    WorkOrderSkill,
)
from frontline.field.states import (
    ChecklistResult,
    DispatchVia,
    EventKind,
    Priority,
    WorkOrderType,
    allowed_next,
)
from frontline.sites.models import Asset, Project, Site

MAX_SKILLS = 10


class StrictSerializer(serializers.Serializer):
    """An action's body: unknown fields are errors, not silently dropped."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = [key for key in data if key not in self.fields]
            if unknown:
                raise exceptions.ValidationError({k: [_("Unknown field.")] for k in unknown})
        return super().to_internal_value(data)


def _scoped(model, **kwargs):
    return ScopedPrimaryKeyRelatedField(queryset=model.objects.all(), **kwargs)


def name_for_outsiders(user) -> str:
    """What a customer or a public page calls the engineer: a name, never an email."""
    if user is None:
        return ""
    return user.display_name or str(_("Service engineer"))


def _name(obj) -> str | None:
    return str(obj) if obj is not None else None


def photo_url(photo_id: int) -> str:
    return f"/api/v1/work-order-photos/{photo_id}/download/"


# ---------------------------------------------------------------- nested reads


class RequiredSkillSerializer(serializers.ModelSerializer):
    skill = serializers.CharField(source="skill.code", read_only=True)
    skill_name = serializers.CharField(source="skill.name", read_only=True)

    class Meta:
        model = WorkOrderSkill
        fields = ["skill", "skill_name", "min_level"]
        read_only_fields = fields


class ChecklistItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = ["id", "position", "label", "result", "note", "checked_by", "checked_at"]
        read_only_fields = fields


class CustomerChecklistItemSerializer(ChecklistItemSerializer):
    narrows = ChecklistItemSerializer  # the staff shape (frontline.core.schema)

    class Meta(ChecklistItemSerializer.Meta):
        fields = ["id", "position", "label", "result", "checked_at"]
        read_only_fields = fields


class PhotoSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrderPhoto
        fields = ["id", "work_order", "name", "content_type", "size", "caption", "client_id",
                  "uploaded_by", "created_at", "taken_at", "download_url"]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return photo_url(obj.pk)


class CustomerPhotoSerializer(PhotoSerializer):
    narrows = PhotoSerializer  # the staff shape (frontline.core.schema)

    class Meta(PhotoSerializer.Meta):
        fields = ["id", "work_order", "name", "content_type", "size", "caption", "created_at",
                  "download_url"]  # fmt: skip
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    """A timeline event as operator staff see it: everything, internal notes included."""

    author_name = serializers.SerializerMethodField()
    occurred_at = serializers.DateTimeField(
        source="when", read_only=True,
        help_text=_("When it happened: the phone's time for work synced from offline, else "
                    "the same as created_at (when the server received it)."),
    )  # fmt: skip

    class Meta:
        model = WorkOrderEvent
        fields = ["id", "work_order", "kind", "public", "author", "author_name", "body", "data",
                  "latitude", "longitude", "created_at", "occurred_at"]  # fmt: skip
        read_only_fields = fields

    def get_author_name(self, obj) -> str:
        return _name(obj.author) or ""


# What of an event's data an outsider may read, per kind. Everything else (engineer ids,
# the check-in distance and flag, offer sizes, survey scores) stays internal.
PUBLIC_DATA_KEYS: dict[str, tuple[str, ...]] = {
    EventKind.CREATED: ("type", "priority"),
    EventKind.APPOINTMENT: ("from", "until"),
    EventKind.ETA: ("eta",),
    EventKind.STATUS: ("status",),
    EventKind.COMPLETED: ("resolution_code",),
    EventKind.SIGNATURE: ("signed_by",),
}
_NAMED_KINDS = {EventKind.DISPATCHED, EventKind.REASSIGNED, EventKind.CLAIMED}


def public_event_detail(event) -> dict:
    data = event.data or {}
    out = {key: data[key] for key in PUBLIC_DATA_KEYS.get(event.kind, ()) if key in data}
    if event.kind in _NAMED_KINDS:
        # The event stores the engineer's label, which is an email when no name is set.
        name = str(data.get("name") or "")
        out["engineer_name"] = name if name and "@" not in name else str(_("Service engineer"))
    if event.kind == EventKind.PARTNER:
        out["partner_name"] = str(data.get("name") or "")
    return out


class PublicEventSerializer(serializers.ModelSerializer):
    """A public event as a customer or partner reads it: what, when, by whom (a name)."""

    narrows = EventSerializer  # the staff shape (frontline.core.schema)

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    author_name = serializers.SerializerMethodField()
    detail = serializers.SerializerMethodField()
    occurred_at = serializers.DateTimeField(source="when", read_only=True)

    class Meta:
        model = WorkOrderEvent
        fields = ["id", "kind", "kind_label", "author_name", "body", "detail", "created_at",
                  "occurred_at"]  # fmt: skip
        read_only_fields = fields

    def get_author_name(self, obj) -> str:
        return name_for_outsiders(obj.author) if obj.author_id else ""

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_detail(self, obj) -> dict:
        return public_event_detail(obj)


class OfferSerializer(serializers.ModelSerializer):
    """A grab offer as the dispatcher sees it."""

    recipients_count = serializers.SerializerMethodField()

    class Meta:
        model = GrabOffer
        fields = ["id", "work_order", "status", "radius_km", "expires_at", "recipients_count",
                  "claimed_by", "claimed_at", "created_by", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_recipients_count(self, obj) -> int:
        return obj.recipients.count()


class OpenOfferSerializer(serializers.ModelSerializer):
    class Meta:
        model = GrabOffer
        fields = ["id", "radius_km", "expires_at"]
        read_only_fields = fields


# ---------------------------------------------------------------- work orders


class WorkOrderSerializer(serializers.ModelSerializer):
    """A work order as operator staff see it (list shape: no nested collections)."""

    ticket_number = serializers.SerializerMethodField()
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    project_name = serializers.SerializerMethodField()
    site_name = serializers.CharField(source="site.name", read_only=True)
    site_address = serializers.CharField(source="site.address", read_only=True)
    site_latitude = serializers.DecimalField(
        source="site.latitude", max_digits=9, decimal_places=6, read_only=True
    )
    site_longitude = serializers.DecimalField(
        source="site.longitude", max_digits=9, decimal_places=6, read_only=True
    )
    asset_name = serializers.SerializerMethodField()
    required_skills = RequiredSkillSerializer(many=True, read_only=True)
    allowed_statuses = serializers.SerializerMethodField()
    team_name = serializers.SerializerMethodField()
    assignee_name = serializers.SerializerMethodField()
    partner_name = serializers.SerializerMethodField()
    open_offer = serializers.SerializerMethodField()
    # Blank until the order is dispatched: the schema must admit "".
    dispatched_via = serializers.ChoiceField(DispatchVia.choices, allow_blank=True, read_only=True)

    class Meta:
        model = WorkOrder
        fields = [
            "id", "number", "type", "title", "ticket", "ticket_number", "customer",
            "customer_name", "project", "project_name", "site", "site_name", "site_address",
            "site_latitude", "site_longitude", "asset", "asset_name", "priority",
            "required_skills", "estimated_minutes", "window_start", "window_end", "status",
            "allowed_statuses", "team", "team_name", "assignee", "assignee_name", "partner",
            "partner_name", "dispatched_via", "open_offer", "revisit_of", "planned_start",
            "route_position", "eta", "started_travel_at", "checked_in_at", "check_in_latitude",
            "check_in_longitude", "check_in_distance_m", "check_in_flagged", "checked_out_at",
            "resolution_code", "resolution_notes", "parts_used", "first_time_fix", "signed_by",
            "signed_at", "created_by", "created_at", "updated_at", "dispatched_at",
            "accepted_at", "completed_at", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_ticket_number(self, obj) -> str | None:
        return obj.ticket.number if obj.ticket_id else None

    def get_project_name(self, obj) -> str | None:
        return obj.project.name if obj.project_id else None

    def get_asset_name(self, obj) -> str | None:
        return _name(obj.asset) if obj.asset_id else None

    def get_allowed_statuses(self, obj) -> list[str]:
        return allowed_next(obj.status)

    def get_team_name(self, obj) -> str | None:
        return _name(obj.team) if obj.team_id else None

    def get_assignee_name(self, obj) -> str | None:
        return _name(obj.assignee) if obj.assignee_id else None

    def get_partner_name(self, obj) -> str | None:
        return obj.partner.name if obj.partner_id else None

    @extend_schema_field(OpenOfferSerializer(allow_null=True))
    def get_open_offer(self, obj):
        # ``open_offers`` is prefetched by the view; one query otherwise.
        offers = getattr(obj, "open_offers", None)
        if offers is None:
            offers = list(obj.offers.filter(status="open"))
        return OpenOfferSerializer(offers[0]).data if offers else None


PARTNER_HIDDEN = {"ticket", "ticket_number", "project", "project_name", "team", "team_name",
                  "dispatched_via", "check_in_distance_m", "check_in_flagged", "created_by",
                  "revisit_of"}  # fmt: skip


class PartnerWorkOrderSerializer(WorkOrderSerializer):
    """A work order as the partner outlet it was sent to sees it."""

    narrows = WorkOrderSerializer  # the staff shape (frontline.core.schema)

    class Meta(WorkOrderSerializer.Meta):
        fields = [f for f in WorkOrderSerializer.Meta.fields if f not in PARTNER_HIDDEN]
        read_only_fields = fields


class CustomerWorkOrderSerializer(WorkOrderSerializer):
    """A work order as its customer sees it: who comes when, and what was done."""

    narrows = WorkOrderSerializer  # the staff shape (frontline.core.schema)

    engineer_name = serializers.SerializerMethodField()

    class Meta(WorkOrderSerializer.Meta):
        fields = [
            "id", "number", "type", "title", "ticket", "ticket_number", "customer",
            "customer_name", "project", "project_name", "site", "site_name", "site_address",
            "asset", "asset_name", "priority", "window_start", "window_end", "status",
            "engineer_name", "eta", "started_travel_at", "checked_in_at", "completed_at",
            "closed_at", "resolution_code", "resolution_notes", "parts_used", "signed_by",
            "signed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_engineer_name(self, obj) -> str:
        return name_for_outsiders(obj.assignee) if obj.assignee_id else ""


def _detail_fields(base: list[str]) -> list[str]:
    return [*base, "description", "checklist", "photos", "events"]


class WorkOrderDetailSerializer(WorkOrderSerializer):
    checklist = ChecklistItemSerializer(many=True, read_only=True)
    photos = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta(WorkOrderSerializer.Meta):
        fields = _detail_fields(WorkOrderSerializer.Meta.fields)
        read_only_fields = fields

    @extend_schema_field(PhotoSerializer(many=True))
    def get_photos(self, obj):
        return PhotoSerializer(obj.visible_photos, many=True).data

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, obj):
        return EventSerializer(obj.visible_events, many=True).data


class PartnerWorkOrderDetailSerializer(PartnerWorkOrderSerializer):
    narrows = WorkOrderDetailSerializer  # the staff shape (frontline.core.schema)

    checklist = ChecklistItemSerializer(many=True, read_only=True)
    photos = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta(PartnerWorkOrderSerializer.Meta):
        fields = _detail_fields(PartnerWorkOrderSerializer.Meta.fields)
        read_only_fields = fields

    @extend_schema_field(PhotoSerializer(many=True))
    def get_photos(self, obj):
        return PhotoSerializer(obj.visible_photos, many=True).data

    @extend_schema_field(PublicEventSerializer(many=True))
    def get_events(self, obj):
        return PublicEventSerializer(obj.visible_events, many=True).data


class CustomerWorkOrderDetailSerializer(CustomerWorkOrderSerializer):
    narrows = WorkOrderDetailSerializer  # the staff shape (frontline.core.schema)

    checklist = CustomerChecklistItemSerializer(many=True, read_only=True)
    photos = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta(CustomerWorkOrderSerializer.Meta):
        fields = _detail_fields(CustomerWorkOrderSerializer.Meta.fields)
        read_only_fields = fields

    @extend_schema_field(CustomerPhotoSerializer(many=True))
    def get_photos(self, obj):
        return CustomerPhotoSerializer(obj.visible_photos, many=True).data

    @extend_schema_field(PublicEventSerializer(many=True))
    def get_events(self, obj):
        return PublicEventSerializer(obj.visible_events, many=True).data


# ---------------------------------------------------------------- writing


class RequiredSkillInputSerializer(StrictSerializer):
    skill = serializers.SlugRelatedField(slug_field="code", queryset=Skill.objects.all())
    min_level = serializers.IntegerField(min_value=1, max_value=5, default=1)


class WorkOrderCreateSerializer(StrictSerializer):
    """What a dispatcher (or an agent, for a ticket) gives to open a work order.

    Every id is looked up through the caller's scoping; that the site, project, asset,
    ticket and earlier visit belong to the customer is checked by the service (400)."""

    type = serializers.ChoiceField(choices=WorkOrderType.choices, default=WorkOrderType.REPAIR)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    ticket = _scoped(Ticket, required=False, allow_null=True)
    customer = _scoped(Organization, required=False, allow_null=True)
    project = _scoped(Project, required=False, allow_null=True)
    site = _scoped(Site, required=False, allow_null=True)
    asset = _scoped(Asset, required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    required_skills = serializers.ListField(
        child=RequiredSkillInputSerializer(), required=False, max_length=MAX_SKILLS
    )
    estimated_minutes = serializers.IntegerField(min_value=5, max_value=24 * 60, default=60)
    window_start = serializers.DateTimeField(required=False, allow_null=True)
    window_end = serializers.DateTimeField(required=False, allow_null=True)
    team = _scoped(Team, required=False, allow_null=True)
    revisit_of = _scoped(WorkOrder, required=False, allow_null=True)


class AppointmentSerializer(StrictSerializer):
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DispatchSerializer(StrictSerializer):
    engineer = _scoped(User)
    planned_start = serializers.DateTimeField(required=False, allow_null=True)
    route_position = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=500
    )


class SendToPartnerSerializer(StrictSerializer):
    partner = _scoped(Organization)


class OfferRequestSerializer(StrictSerializer):
    expires_in_minutes = serializers.IntegerField(min_value=1, max_value=7 * 24 * 60, default=30)
    radius_km = serializers.IntegerField(
        min_value=1, max_value=2000, required=False, allow_null=True
    )


class ClaimSerializer(StrictSerializer):
    offer = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class NoteSerializer(StrictSerializer):
    body = serializers.CharField(max_length=5000)


def _coordinate(limit: int, **kwargs):
    return serializers.FloatField(min_value=-limit, max_value=limit, **kwargs)


class OptionalPositionSerializer(StrictSerializer):
    latitude = _coordinate(90, required=False, allow_null=True)
    longitude = _coordinate(180, required=False, allow_null=True)


class PositionSerializer(StrictSerializer):
    latitude = _coordinate(90)
    longitude = _coordinate(180)


class ChecklistAnswerSerializer(StrictSerializer):
    item = serializers.IntegerField(min_value=1)
    result = serializers.ChoiceField(
        choices=[c for c in ChecklistResult.choices if c[0] != ChecklistResult.PENDING]
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class PhotoUploadSerializer(StrictSerializer):
    file = serializers.FileField(allow_empty_file=False)
    caption = serializers.CharField(required=False, allow_blank=True, max_length=200)
    client_id = serializers.UUIDField(required=False, allow_null=True)


class SignSerializer(StrictSerializer):
    signature = serializers.CharField(
        max_length=800_000, help_text=_("A PNG as a data URL (data:image/png;base64,…).")
    )
    signed_by = serializers.CharField(max_length=120)


class CompleteSerializer(StrictSerializer):
    resolution_code = serializers.CharField(max_length=40)
    resolution_notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    parts_used = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    first_time_fix = serializers.BooleanField(required=False, allow_null=True, default=None)
    latitude = _coordinate(90, required=False, allow_null=True)
    longitude = _coordinate(180, required=False, allow_null=True)


class AcceptedSerializer(serializers.Serializer):
    """A 202: the request was taken; what it started happens by email."""

    code = serializers.CharField()
    detail = serializers.CharField()
