"""``POST /api/v1/sync/``: the phone's outbox, applied in order, each action once.

The envelope is checked here (400 naming ``actions.<n>.<field>`` for a malformed action,
a batch over ``MAX_ACTIONS``, or data over its size limit; 413 for a body over
``MAX_BODY_BYTES`` before it is read); what each action does and how it ended is
``frontline.sync.apply``'s business. Engineers only: anyone else is 403.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from frontline.core.api import ErrorSerializer
from frontline.core.errors import DomainError
from frontline.core.rest import parse_id
from frontline.field import access as field_access
from frontline.sync.apply import Action, BatchResult, apply_batch
from frontline.sync.models import DEVICE_ID_MAX
from frontline.sync.states import SyncKind, SyncStatus

MAX_ACTIONS = 500
DATA_MAX_CHARS = 16 * 1024
# A signature is a PNG data URL of up to 512 KiB (base64: about 700,000 characters).
SIGN_DATA_MAX_CHARS = 800_000 + 1024
MAX_BODY_BYTES = 10 * 1024 * 1024


class TooLarge(DomainError):
    status = 413
    code = "too_large"
    default_message = _("This batch is too large: send it in parts.")


class SyncThrottle(UserRateThrottle):
    """Per engineer; a phone syncs on reconnect and by a button, not in a loop."""

    scope = "sync"

    def get_rate(self):
        return f"{int(getattr(settings, 'SYNC_RATE_PER_MINUTE', 120))}/minute"


def _enum(choices) -> dict:
    return {"type": "string", "enum": [value for value, _label in choices]}


# Named components of their own: "kind" and "status" mean other choice sets elsewhere.
@extend_schema_field(_enum(SyncKind.choices), component_name="SyncKindEnum")
class SyncKindField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=SyncKind.choices, **kwargs)


@extend_schema_field(_enum(SyncStatus.choices), component_name="SyncStatusEnum")
class SyncStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=SyncStatus.choices, **kwargs)


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = {k: [_("Unknown field.")] for k in data if k not in self.fields}
            if unknown:
                raise exceptions.ValidationError(unknown)
        return super().to_internal_value(data)


class SyncActionInSerializer(StrictSerializer):
    client_id = serializers.UUIDField(help_text=_("Generated on the phone, one per action."))
    kind = SyncKindField()
    target = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text=_("The work order's or round's id.")
    )
    device_at = serializers.DateTimeField(help_text=_("When it was done, by the phone's clock."))
    data = serializers.DictField(required=False, default=dict, help_text=_("The verb's body."))

    def validate(self, attrs):
        limit = SIGN_DATA_MAX_CHARS if attrs["kind"] == SyncKind.SIGN else DATA_MAX_CHARS
        if len(json.dumps(attrs["data"], cls=DjangoJSONEncoder)) > limit:
            raise exceptions.ValidationError(
                {"data": [_("At most %(n)d characters of data.") % {"n": limit}]}
            )
        return attrs


class SyncBatchSerializer(StrictSerializer):
    device_id = serializers.CharField(max_length=DEVICE_ID_MAX)
    actions = serializers.ListField(
        child=SyncActionInSerializer(), max_length=MAX_ACTIONS, allow_empty=True
    )


class SyncResultSerializer(serializers.Serializer):
    client_id = serializers.UUIDField()
    kind = SyncKindField()
    target = serializers.IntegerField()
    status = SyncStatusField()
    original_status = SyncStatusField(
        allow_null=True,
        help_text=_("For a replay: how the action ended the first time."),
    )
    result = serializers.JSONField(
        help_text=_("Applied: what changed (ids, status). Otherwise {code, detail, fields}.")
    )
    device_at = serializers.DateTimeField()
    clock_flagged = serializers.BooleanField()


class SyncSummarySerializer(serializers.Serializer):
    applied = serializers.IntegerField()
    replayed = serializers.IntegerField()
    rejected = serializers.IntegerField()
    taken_back = serializers.IntegerField()
    skipped = serializers.IntegerField()


class SyncBatchResponseSerializer(serializers.Serializer):
    device_id = serializers.CharField()
    received_at = serializers.DateTimeField()
    results = SyncResultSerializer(many=True)
    summary = SyncSummarySerializer()


def _by_position(errors: Mapping) -> dict:
    """``{"actions": {1: {"kind": [...]}}}`` as ``{"actions.1.kind": [...]}``: the phone
    keeps the action it names aside and sends the rest again (sync/outbox.js)."""
    named: dict = {}
    for key, value in errors.items():
        if key != "actions" or not isinstance(value, Mapping):
            named[key] = value
            continue
        for index, detail in value.items():
            if isinstance(detail, Mapping):
                named.update({f"actions.{index}.{field}": m for field, m in detail.items()})
            else:
                named[f"actions.{index}"] = detail
    return named


def _answer(batch: BatchResult) -> dict:
    results = [
        {"client_id": o.client_id, "kind": o.kind, "target": o.target, "status": o.status,
         "original_status": o.original_status, "result": o.result, "device_at": o.device_at,
         "clock_flagged": o.clock_flagged}
        for o in batch.results
    ]  # fmt: skip
    body = {"device_id": batch.device_id, "received_at": batch.received_at,
            "results": results, "summary": batch.summary}  # fmt: skip
    return SyncBatchResponseSerializer(body).data


EXAMPLE_REQUEST = {
    "device_id": "pixel-7-3f2a",
    "actions": [
        {"client_id": "0b6f0c7e-8d1f-4d0a-9a53-2b8f6f2d1c01", "kind": "accept", "target": 41,
         "device_at": "2026-11-22T08:01:10+08:00", "data": {}},
        {"client_id": "0b6f0c7e-8d1f-4d0a-9a53-2b8f6f2d1c02", "kind": "check_in", "target": 41,
         "device_at": "2026-11-22T08:40:02+08:00",
         "data": {"latitude": "31.2034", "longitude": "121.5870"}},
    ],
}  # fmt: skip


class SyncView(APIView):
    parser_classes = [JSONParser]
    throttle_classes = [SyncThrottle]

    @extend_schema(
        summary="Sync the phone's offline outbox (engineers)",
        description=(
            "Applies the actions in order, each once, through the same services as the "
            "online verbs. Per action: `applied`; `replayed` (a client id already decided: "
            "the first result, nothing done again); `taken_back` (the work is no longer "
            "yours: reassigned, taken back, cancelled, or not visible); `rejected` (the "
            "verb's error as `{code, detail, fields}`; also `client_id_taken` and "
            "`client_id_reused`); `skipped` (an earlier action on the same work order or "
            "round failed in this batch: not tried, send it again later). Photos are not "
            "synced here: upload them afterwards, resumably, through `/api/v1/sync/uploads/` "
            "with their own `client_id` (a visit's photo-required items go in its data's "
            "`photos_to_follow`). Work-order verbs keep `device_at` as when it happened "
            "(refused more than 5 minutes ahead or 30 days back). A malformed action is 400 with "
            "`fields` keyed `actions.<n>.<field>`. At most 500 actions (400), "
            "data at most 16 KiB per action (a signature 800 KB), a body at most 10 MB (413)."
        ),
        request=SyncBatchSerializer,
        responses={200: SyncBatchResponseSerializer, 400: ErrorSerializer,
                   403: ErrorSerializer, 413: ErrorSerializer, 429: ErrorSerializer},
        examples=[OpenApiExample("Accept and check in", value=EXAMPLE_REQUEST, request_only=True)],
    )  # fmt: skip
    def post(self, request):
        if not field_access.may_do_field_work(request.user):
            raise exceptions.PermissionDenied()
        length = parse_id(request.META.get("CONTENT_LENGTH") or "") or 0
        if length > MAX_BODY_BYTES:
            raise TooLarge()
        serializer = SyncBatchSerializer(data=request.data)
        if not serializer.is_valid():
            raise exceptions.ValidationError(_by_position(serializer.errors))
        actions = [Action(**a) for a in serializer.validated_data["actions"]]
        batch = apply_batch(
            actor=request.user, device_id=serializer.validated_data["device_id"], actions=actions
        )
        return Response(_answer(batch))
