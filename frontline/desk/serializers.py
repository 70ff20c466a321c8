"""API shapes for tickets, their timeline, attachments and hand-offs.

Staff and customers get different serializers: the customer's shows what the portal
shows (status, severity, owner's name, due dates, public events) and never internal
fields (team, tier, tags, SLA internals, fire flags, problem, watchers). Write
serializers are strict: an unknown or read-only field is a 400, so a customer's POST
carrying ``owner`` or ``status`` is refused rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers

from frontline.accounts.models import Organization, Team, User
from frontline.core.api import ScopedPrimaryKeyRelatedField, StrictModelSerializer
from frontline.desk.models import (
    Attachment,
    BugBrief,
    Category,
    FireCall,
    FireSummons,
    HandOff,
    Ticket,
    TicketEvent,
)
from frontline.desk.states import Channel, Severity, TicketStatus, Tier, allowed_next
from frontline.desk.uploads import MAX_FILES
from frontline.sites.models import Asset, Project, Site


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


# ---------------------------------------------------------------- reading


class HandOffSerializer(serializers.ModelSerializer):
    from_name = serializers.CharField(source="from_user.__str__", read_only=True)
    to_name = serializers.CharField(source="to_user.__str__", read_only=True)

    class Meta:
        model = HandOff
        fields = [
            "id",
            "ticket",
            "from_user",
            "from_name",
            "to_user",
            "to_name",
            "requested_by",
            "status",
            "message",
            "reason",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "ticket", "event", "name", "content_type", "size", "sha256", "public",
                  "created_at", "download_url"]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return f"/api/v1/attachments/{obj.pk}/download/"


class CustomerAttachmentSerializer(AttachmentSerializer):
    narrows = AttachmentSerializer  # the staff shape (frontline.core.schema)

    class Meta(AttachmentSerializer.Meta):
        fields = ["id", "ticket", "name", "content_type", "size", "created_at", "download_url"]
        read_only_fields = fields


class TicketEventSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields = ["id", "ticket", "kind", "public", "author", "author_name", "body", "data",
                  "attachments", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_author_name(self, obj) -> str:
        return str(obj.author) if obj.author_id and obj.author is not None else ""

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, obj):
        # ``visible_attachments`` is prefetched by the view with the reader's scoping.
        files = getattr(obj, "visible_attachments", [])
        return AttachmentSerializer(files, many=True, context=self.context).data


class CustomerEventSerializer(TicketEventSerializer):
    """A public event as the customer sees it: who (by name), what, when; no internal data."""

    narrows = TicketEventSerializer  # the staff shape (frontline.core.schema)

    class Meta(TicketEventSerializer.Meta):
        fields = ["id", "ticket", "kind", "author_name", "body", "status_change", "attachments",
                  "created_at"]  # fmt: skip
        read_only_fields = fields

    status_change = serializers.SerializerMethodField()

    def get_status_change(self, obj) -> dict | None:
        if obj.kind != "status":
            return None
        return {"from": obj.data.get("from"), "to": obj.data.get("to")}

    @extend_schema_field(CustomerAttachmentSerializer(many=True))
    def get_attachments(self, obj):
        files = getattr(obj, "visible_attachments", [])
        return CustomerAttachmentSerializer(files, many=True, context=self.context).data


def _name(obj) -> str | None:
    return str(obj) if obj is not None else None


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as operator staff see it."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact_name = serializers.SerializerMethodField()
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    project_name = serializers.SerializerMethodField()
    site_name = serializers.SerializerMethodField()
    asset_name = serializers.SerializerMethodField()
    category_name = serializers.SerializerMethodField()
    team_name = serializers.SerializerMethodField()
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    allowed_statuses = serializers.SerializerMethodField()
    pending_hand_off = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "title", "description", "customer", "customer_name", "contact",
            "contact_name", "project", "project_name", "site", "site_name", "asset",
            "asset_name", "channel", "category", "category_name", "tags", "severity",
            "status", "allowed_statuses", "team", "team_name", "tier", "owner", "owner_name",
            "first_handled_at", "pending_hand_off", "watchers", "created_by", "problem",
            "external_ref", "sla_policy", "sla_state", "first_response_due_at",
            "resolution_due_at", "sla_warning_at", "sla_warned_at", "sla_breached_at",
            "first_responded_at", "resolved_at", "closed_at", "fire_open", "had_fire_call",
            "rating", "rating_comment", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_contact_name(self, obj) -> str | None:
        return _name(obj.contact)

    def get_project_name(self, obj) -> str | None:
        return obj.project.name if obj.project is not None else None

    def get_site_name(self, obj) -> str | None:
        return _name(obj.site)

    def get_asset_name(self, obj) -> str | None:
        return _name(obj.asset)

    def get_category_name(self, obj) -> str | None:
        return _name(obj.category)

    def get_team_name(self, obj) -> str | None:
        return _name(obj.team)

    def get_allowed_statuses(self, obj) -> list[str]:
        return allowed_next(obj.status)

    @extend_schema_field(HandOffSerializer(allow_null=True))
    def get_pending_hand_off(self, obj):
        pending = getattr(obj, "pending_hand_offs", None)
        if pending is None:
            pending = list(obj.hand_offs.filter(status="requested"))
        return HandOffSerializer(pending[0]).data if pending else None


class CustomerTicketSerializer(TicketSerializer):
    """A ticket as its customer sees it in the portal or through the API."""

    narrows = TicketSerializer  # the staff shape (frontline.core.schema)

    # The owner's name only: never their email address, even when no name is set.
    owner_name = serializers.SerializerMethodField()

    def get_owner_name(self, obj) -> str:
        return obj.owner.display_name or str(_("Service team"))

    class Meta(TicketSerializer.Meta):
        fields = [
            "id", "number", "title", "description", "customer", "customer_name", "contact",
            "contact_name", "project", "project_name", "site", "site_name", "asset",
            "asset_name", "channel", "category", "category_name", "severity", "status",
            "owner_name", "external_ref", "first_response_due_at", "resolution_due_at",
            "first_responded_at", "resolved_at", "closed_at", "rating", "rating_comment",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


def _without_description(fields: list[str]) -> list[str]:
    return [name for name in fields if name != "description"]


class TicketSummarySerializer(TicketSerializer):
    """A ticket in the staff list: everything but the description (rich text of up to
    100 kB that a list never shows; the list does not even read it)."""

    class Meta(TicketSerializer.Meta):
        fields = _without_description(TicketSerializer.Meta.fields)
        read_only_fields = fields


class CustomerTicketSummarySerializer(CustomerTicketSerializer):
    """A ticket in the customer's list: the portal fields but the description."""

    narrows = TicketSummarySerializer  # the staff shape (frontline.core.schema)

    class Meta(CustomerTicketSerializer.Meta):
        fields = _without_description(CustomerTicketSerializer.Meta.fields)
        read_only_fields = fields


# ---------------------------------------------------------------- writing


class TicketCreateSerializer(StrictModelSerializer):
    """What staff give when opening a ticket (phone, email intake, on behalf of a customer)."""

    customer = _scoped(Organization)
    contact = _scoped(User, required=False, allow_null=True)
    project = _scoped(Project, required=False, allow_null=True)
    site = _scoped(Site, required=False, allow_null=True)
    asset = _scoped(Asset, required=False, allow_null=True)
    category = _scoped(Category, required=False, allow_null=True)
    team = _scoped(Team, required=False, allow_null=True)
    owner = _scoped(User, required=False, allow_null=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    external_ref = serializers.CharField(required=False, allow_blank=True, max_length=200)

    class Meta:
        model = Ticket
        fields = ["title", "description", "customer", "contact", "project", "site", "asset",
                  "channel", "category", "tags", "severity", "team", "owner", "external_ref"]  # fmt: skip
        validators: list = []


class CustomerTicketCreateSerializer(TicketCreateSerializer):
    """What a customer gives: no owner, team, status, tags or SLA fields (400 if sent)."""

    class Meta(TicketCreateSerializer.Meta):
        fields = ["title", "description", "project", "site", "asset", "category", "severity",
                  "external_ref"]  # fmt: skip


class TicketUpdateSerializer(StrictModelSerializer):
    contact = _scoped(User, required=False, allow_null=True)
    project = _scoped(Project, required=False, allow_null=True)
    site = _scoped(Site, required=False, allow_null=True)
    asset = _scoped(Asset, required=False, allow_null=True)
    category = _scoped(Category, required=False, allow_null=True)
    team = _scoped(Team, required=False, allow_null=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=100_000)

    class Meta:
        model = Ticket
        fields = ["title", "description", "severity", "category", "tags", "team", "tier",
                  "project", "site", "asset", "contact"]  # fmt: skip
        validators: list = []


class TicketMessageSerializer(StrictSerializer):
    body = serializers.CharField(max_length=100_000)


class TicketTransitionSerializer(StrictSerializer):
    to_status = serializers.ChoiceField(choices=TicketStatus.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=100_000)


class HandOffRequestSerializer(StrictSerializer):
    to_user = _scoped(User)
    message = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TicketReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class TicketReassignSerializer(StrictSerializer):
    to_user = _scoped(User)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TicketWatchSerializer(StrictSerializer):
    watching = serializers.BooleanField(default=True)


class TicketRateSerializer(StrictSerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TicketUploadSerializer(StrictSerializer):
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False), max_length=MAX_FILES
    )
    public = serializers.BooleanField(default=True)


class TicketCallFireSerializer(StrictSerializer):
    level = serializers.ChoiceField(choices=Severity.choices)
    message = serializers.CharField(max_length=10_000)


class TicketFireCallSerializer(serializers.ModelSerializer):
    called_by_name = serializers.CharField(source="called_by.__str__", read_only=True)

    class Meta:
        model = FireCall
        fields = ["id", "ticket", "level", "message", "called_by", "called_by_name",
                  "created_at", "closed_at"]  # fmt: skip
        read_only_fields = fields


class TicketFireSummonsSerializer(serializers.ModelSerializer):
    class Meta:
        model = FireSummons
        fields = ["id", "fire_call", "user", "summoned", "joined_at"]
        read_only_fields = fields


class TicketBriefSerializer(StrictModelSerializer):
    class Meta:
        model = BugBrief
        fields = ["symptom", "impact", "scope", "workaround", "root_cause", "fix", "prevention"]
        extra_kwargs = {"workaround": {"required": False, "allow_blank": True}}


class TicketBriefOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = BugBrief
        fields = ["id", "ticket", "symptom", "impact", "scope", "workaround", "root_cause",
                  "fix", "prevention", "author", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields
