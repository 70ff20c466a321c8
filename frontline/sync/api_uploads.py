"""Resumable photo uploads after a sync (engineers): ``POST /api/v1/sync/uploads/`` opens,
``PATCH /api/v1/sync/uploads/{client_id}/`` appends a chunk at ``Upload-Offset``,
``GET`` the same URL says where to resume. The rules are ``frontline.sync.uploads``'."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, serializers
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from frontline.core.api import ErrorSerializer
from frontline.core.errors import DomainError
from frontline.core.rest import parse_id
from frontline.field import access as field_access
from frontline.sync import uploads
from frontline.sync.api import StrictSerializer, _enum
from frontline.sync.states import UploadPurpose, UploadStatus

OFFSET_TYPES = ("application/offset+octet-stream", "application/octet-stream")
TARGET_KEYS = {
    UploadPurpose.WORK_ORDER_PHOTO: ("work_order",),
    UploadPurpose.READING_PHOTO: ("round", "checkpoint", "item"),
}


class SyncUploadThrottle(UserRateThrottle):
    """Per engineer; a photo is a few chunks, so more requests than the batch endpoint."""

    scope = "sync_upload"

    def get_rate(self):
        return f"{int(getattr(settings, 'SYNC_UPLOAD_RATE_PER_MINUTE', 600))}/minute"


class OffsetStreamParser(BaseParser):
    """A chunk's raw bytes (the body is not parsed: the view reads it once, bounded)."""

    media_type = "application/offset+octet-stream"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


@extend_schema_field(_enum(UploadPurpose.choices), component_name="SyncUploadPurposeEnum")
class PurposeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=UploadPurpose.choices, **kwargs)


@extend_schema_field(_enum(UploadStatus.choices), component_name="SyncUploadStatusEnum")
class UploadStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=UploadStatus.choices, **kwargs)


class SyncUploadOpenSerializer(StrictSerializer):
    client_id = serializers.UUIDField(help_text=_("Generated on the phone, one per upload."))
    purpose = PurposeField()
    target = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        help_text=_('{"work_order": id} for a work order photo; {"round": id, "checkpoint": id, '
                    '"item": id} for a reading photo.'),
    )  # fmt: skip
    filename = serializers.CharField(max_length=1000)
    content_type = serializers.CharField(max_length=100)
    size = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text=_("In bytes."))
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", help_text=_("Of the whole file, hex."))
    device_at = serializers.DateTimeField(help_text=_("When the photo was taken, by the phone."))

    def validate(self, attrs):
        keys = TARGET_KEYS[attrs["purpose"]]
        if set(attrs["target"]) != set(keys):
            raise exceptions.ValidationError(
                {"target": [_("Give exactly: %(keys)s.") % {"keys": ", ".join(keys)}]}
            )
        return attrs


class SyncUploadStateSerializer(serializers.Serializer):
    client_id = serializers.UUIDField()
    offset = serializers.IntegerField(help_text=_("Bytes received: the next chunk starts here."))
    size = serializers.IntegerField()
    status = UploadStatusField()
    result = serializers.JSONField(
        help_text=_("Done: what the photo became ({photo, work_order} or {reading, round}). "
                    "Failed: {code, detail, fields}.")
    )  # fmt: skip
    code = serializers.CharField(allow_null=True, help_text=_("Failed: why (stable code)."))
    detail = serializers.CharField(allow_null=True, help_text=_("Failed: the reason to show."))


class OffsetMismatchSerializer(ErrorSerializer):
    offset = serializers.IntegerField(required=False)


def _state(upload) -> dict:
    return SyncUploadStateSerializer(uploads.state(upload)).data


def _error(exc: DomainError) -> Response:
    body = {"code": exc.code, "detail": str(exc.message), "fields": exc.fields,
            **getattr(exc, "extra", {})}  # fmt: skip
    return Response(body, status=exc.status)


def _engineer(request) -> None:
    if not field_access.may_do_field_work(request.user):
        raise exceptions.PermissionDenied()


OPEN_EXAMPLE = {
    "client_id": "5d1c3c9e-0f7e-4b7a-8e0c-7a8f3f1b2c01", "purpose": "work_order_photo",
    "target": {"work_order": 41}, "filename": "IMG_0412.jpg", "content_type": "image/jpeg",
    "size": 2481152, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "device_at": "2026-11-22T09:12:40+08:00",
}  # fmt: skip


class SyncUploadsView(APIView):
    parser_classes = [JSONParser]
    throttle_classes = [SyncUploadThrottle]

    @extend_schema(
        summary="Open a resumable photo upload (engineers)",
        description=(
            "After the data synced, each photo uploads in chunks of at most 1 MiB. 201 with "
            "`offset` 0 for a new upload; the same body again is 200 with the upload as it "
            "stands (resume from `offset`). 409 `client_id_reused` (same id, different "
            "body), `client_id_taken` (another engineer's id), `taken_back` (the work is no "
            "longer yours: `detail` says why), `photo_already_there` (the reading has its "
            "photo). 413 `too_large` over the upload limit, before any byte is stored."
        ),
        request=SyncUploadOpenSerializer,
        responses={200: SyncUploadStateSerializer, 201: SyncUploadStateSerializer,
                   400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer,
                   413: ErrorSerializer, 429: ErrorSerializer},
        examples=[OpenApiExample("A work order photo", value=OPEN_EXAMPLE, request_only=True)],
    )  # fmt: skip
    def post(self, request):
        _engineer(request)
        serializer = SyncUploadOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            upload, created = uploads.open_upload(actor=request.user, **serializer.validated_data)
        except DomainError as exc:
            return _error(exc)
        return Response(_state(upload), status=201 if created else 200)


class SyncUploadView(APIView):
    parser_classes = [OffsetStreamParser]
    throttle_classes = [SyncUploadThrottle]

    @extend_schema(
        summary="Where a photo upload stands (engineers)",
        responses={200: SyncUploadStateSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, client_id):
        _engineer(request)
        return Response(_state(uploads.get_upload(actor=request.user, client_id=client_id)))

    @extend_schema(
        summary="Append a chunk to a photo upload (engineers)",
        description=(
            "The body is the chunk's bytes (`application/offset+octet-stream`, at most "
            "1 MiB) starting at `Upload-Offset`, which must equal the upload's `offset` "
            "(else 409 `offset_mismatch` with the current `offset`). Bytes past `size` are "
            "400. The last chunk checks the SHA-256 (`failed`, `checksum_mismatch`: start "
            "again with a new client id) and the type by content (PNG, JPEG, WebP), then "
            "attaches the photo: `done` with `result`, or `failed` with `code` and `detail`. "
            "The last chunk sent again returns the state, nothing done twice."
        ),
        parameters=[OpenApiParameter("Upload-Offset", int, OpenApiParameter.HEADER, required=True)],
        request={"application/offset+octet-stream": OpenApiTypes.BINARY},
        responses={200: SyncUploadStateSerializer, 400: ErrorSerializer, 403: ErrorSerializer,
                   404: ErrorSerializer, 409: OffsetMismatchSerializer, 413: ErrorSerializer,
                   415: ErrorSerializer, 429: ErrorSerializer},
    )  # fmt: skip
    def patch(self, request, client_id):
        _engineer(request)
        media = (request.content_type or "").split(";")[0].strip().lower()
        if media not in OFFSET_TYPES:
            raise exceptions.UnsupportedMediaType(media)
        offset = parse_id(request.headers.get("Upload-Offset", ""))
        if offset is None and request.headers.get("Upload-Offset", "").strip() != "0":
            raise exceptions.ValidationError({"Upload-Offset": [_("Give the offset in bytes.")]})
        length = parse_id(request.META.get("CONTENT_LENGTH") or "") or 0
        if length > uploads.CHUNK_MAX:
            return _error(uploads.checks.UploadTooLarge(_("A chunk may be at most 1 MB.")))
        chunk = request.stream.read(uploads.CHUNK_MAX + 1) if request.stream else b""
        try:
            upload = uploads.append(actor=request.user, client_id=client_id, offset=offset or 0,
                                    chunk=chunk)  # fmt: skip
        except DomainError as exc:
            return _error(exc)
        return Response(_state(upload))
