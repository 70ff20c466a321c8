"""Tickets API: thin viewsets over the ticket verbs (``frontline.desk.tickets``).

Reads go through ``visible_to(user)``: a customer sees its organisation's tickets and
their public events and files only; anything else is a 404 on every path. Every write
is one service call (the services decide who may act: 403 with nothing changed), and
every foreign key in a payload is checked against the same scoping. Fire actions
delegate to ``frontline.desk.fire``.
"""

from __future__ import annotations

from urllib.parse import quote

from django.db.models import Prefetch
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from frontline.accounts.roles import Cap
from frontline.core.api import ErrorSerializer, ScopedModelViewSet
from frontline.core.errors import NotFound, PermissionDenied
from frontline.core.rest import CappedCountPagination, parse_id
from frontline.desk import access, fire, handoffs, tickets, uploads
from frontline.desk import serializers as s
from frontline.desk.filters import CustomerTicketFilter, TicketFilter
from frontline.desk.models import Attachment, FireCall, HandOff, Ticket, TicketEvent
from frontline.desk.states import Channel, HandOffStatus

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}
# Room for the multipart framing around MAX_FILES files of the largest allowed size.
_MULTIPART_SLACK = 1024 * 1024


def _ok(serializer, status: int = 200):
    return {status: serializer, **ERRORS}


def _staff(user) -> bool:
    return access.is_desk_staff(user)


@extend_schema_view(
    list=extend_schema(
        summary="List the tickets you can see",
        description=(
            "Staff see every customer's tickets; a customer only its organisation's. "
            "Each ticket as `GET /tickets/{id}/` shows it, without the description. "
            "`count` is exact up to 10,000; above that it is 10,000 and `count_capped` "
            "is true (read: 10,000+), and `next` still leads through every page."
        ),
        responses=s.TicketSummarySerializer(many=True),
    ),
    retrieve=extend_schema(summary="One ticket", responses=_ok(s.TicketSerializer)),
    create=extend_schema(
        summary="Open a ticket",
        description=(
            "Customers send title, description, project, site, asset, category, severity "
            "(one the portal offers) and external_ref; anything else is a 400. A repeated "
            "external_ref (or Idempotency-Key header) returns the first ticket with 200."
        ),
        request=s.TicketCreateSerializer,
        responses={201: s.TicketSerializer, 200: s.TicketSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a ticket's details (staff)",
        request=s.TicketUpdateSerializer,
        responses=_ok(s.TicketSerializer),
    ),
)
class TicketViewSet(ScopedModelViewSet):
    queryset = Ticket.objects.all()
    serializer_class = s.TicketSerializer
    # An exact COUNT(*) over a million tickets cost more than the rest of the request.
    pagination_class = CappedCountPagination
    ordering_fields = ["created_at", "updated_at", "severity", "resolution_due_at", "number"]
    ordering = ["-created_at", "-id"]
    search_fields = ["number", "title"]

    # ------------------------------------------------------------ reading

    @property
    def filterset_class(self):
        # A customer filters only by what it sees (the schema documents the staff filters).
        if getattr(self, "swagger_fake_view", False) or _staff(self.request.user):
            return TicketFilter
        return CustomerTicketFilter

    def get_queryset(self):
        user = self.request.user
        # Joined: what nearly every ticket has. Fetched by id instead: the optional
        # relations (one small query each). PostgreSQL's planning time grows steeply with
        # the number of joined tables (nine took ~30 ms to plan, the page ~1 ms to run).
        qs = (
            Ticket.objects.visible_to(user)
            .select_related("customer", "project", "owner")
            .prefetch_related("contact", "site", "asset", "category")
        )
        if self.action == "list":
            # The list serializers leave the description out: do not read it either.
            qs = qs.defer("description")
        if _staff(user):
            pending = HandOff.objects.filter(status=HandOffStatus.REQUESTED).select_related(
                "from_user", "to_user"
            )
            qs = qs.select_related("team").prefetch_related(
                "tags",
                "watchers",
                Prefetch("hand_offs", queryset=pending, to_attr="pending_hand_offs"),
            )
        return qs

    def get_serializer_class(self):
        staff = _staff(self.request.user)
        if self.action == "create":
            return s.TicketCreateSerializer if staff else s.CustomerTicketCreateSerializer
        if self.action == "partial_update":
            return s.TicketUpdateSerializer
        if self.action == "list":
            return s.TicketSummarySerializer if staff else s.CustomerTicketSummarySerializer
        return s.TicketSerializer if staff else s.CustomerTicketSerializer

    def can_write(self, obj=None) -> bool:
        user = self.request.user
        if obj is None:
            return user.has_capability(Cap.WORK_TICKETS) or user.has_capability(Cap.SUBMIT_TICKETS)
        # On a ticket the caller can see, each verb's service decides (403, nothing changed).
        return True

    def _show(self, ticket: Ticket, status: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=ticket.pk)
        serializer = s.TicketSerializer if _staff(self.request.user) else s.CustomerTicketSerializer
        return Response(serializer(fresh, context=self.get_serializer_context()).data, status)

    def _body(self, serializer_class, *, partial: bool = False):
        serializer = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    # ------------------------------------------------------------ create and change

    def create(self, request, *args, **kwargs):
        data = self._body(self.get_serializer_class())
        key = request.headers.get("Idempotency-Key", "").strip()
        if key and not data.get("external_ref"):
            data["external_ref"] = key[:200]
        if _staff(request.user):
            data.setdefault("channel", Channel.API)
        ticket = tickets.create_ticket(actor=request.user, **data)
        return self._show(ticket, 200 if getattr(ticket, "replayed", False) else 201)

    def partial_update(self, request, *args, **kwargs):
        ticket = self.get_object()
        if not access.may_work(request.user):
            raise PermissionDenied()
        data = self._body(s.TicketUpdateSerializer, partial=True)
        return self._show(tickets.update_ticket(actor=request.user, ticket=ticket, **data))

    def update(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)

    # ------------------------------------------------------------ timeline

    @extend_schema(
        summary="The ticket's timeline (customers: public events only)",
        responses=s.TicketEventSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        ticket = self.get_object()
        user = request.user
        files = Attachment.objects.visible_to(user)
        qs = (
            TicketEvent.objects.visible_to(user)
            .filter(ticket=ticket)
            .select_related("author")
            .prefetch_related(
                Prefetch("attachments", queryset=files, to_attr="visible_attachments")
            )
            .order_by("created_at", "id")
        )
        page = self.paginate_queryset(qs)
        serializer = s.TicketEventSerializer if _staff(user) else s.CustomerEventSerializer
        data = serializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(summary="Reply to the customer (public)", request=s.TicketMessageSerializer,
                   responses=_ok(s.TicketEventSerializer, 201))  # fmt: skip
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        ticket = self.get_object()
        data = self._body(s.TicketMessageSerializer)
        event = tickets.reply(actor=request.user, ticket=ticket, body=data["body"])
        return self._event(event)

    @extend_schema(summary="Write an internal note (staff)", request=s.TicketMessageSerializer,
                   responses=_ok(s.TicketEventSerializer, 201))  # fmt: skip
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        ticket = self.get_object()
        data = self._body(s.TicketMessageSerializer)
        event = tickets.add_note(actor=request.user, ticket=ticket, body=data["body"])
        return self._event(event)

    def _event(self, event) -> Response:
        event.visible_attachments = list(Attachment.objects.filter(event=event))
        serializer = (
            s.TicketEventSerializer if _staff(self.request.user) else s.CustomerEventSerializer
        )
        return Response(serializer(event, context=self.get_serializer_context()).data, 201)

    @extend_schema(
        summary="Attach files (multipart, field 'files', at most 10)",
        request={"multipart/form-data": s.TicketUploadSerializer},
        responses={201: s.AttachmentSerializer(many=True), 413: ErrorSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        ticket = self.get_object()
        length = parse_id(request.META.get("CONTENT_LENGTH") or "") or 0
        if length > uploads.MAX_FILES * uploads.max_bytes() + _MULTIPART_SLACK:
            raise uploads.UploadTooLarge()
        data = self._body(s.TicketUploadSerializer)
        stored = tickets.attach_files(
            actor=request.user, ticket=ticket, files=data["files"], public=data["public"]
        )
        serializer = (
            s.AttachmentSerializer if _staff(request.user) else s.CustomerAttachmentSerializer
        )
        return Response(serializer(stored, many=True).data, status=201)

    # ------------------------------------------------------------ status

    @extend_schema(
        summary="Change the status along the transition table (staff)",
        description="An illegal move is a 409 whose fields.to_status lists the allowed ones.",
        request=s.TicketTransitionSerializer,
        responses=_ok(s.TicketSerializer),
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        ticket = self.get_object()
        data = self._body(s.TicketTransitionSerializer)
        return self._show(tickets.transition(actor=request.user, ticket=ticket, **data))

    @extend_schema(summary="Confirm the resolution (customer): resolved → closed",
                   request=None, responses=_ok(s.TicketSerializer))  # fmt: skip
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        ticket = self.get_object()
        return self._show(tickets.confirm_resolution(actor=request.user, ticket=ticket))

    @extend_schema(summary="Reopen (customer within the reopen period, or staff)",
                   request=s.TicketReasonSerializer, responses=_ok(s.TicketSerializer))  # fmt: skip
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        ticket = self.get_object()
        data = self._body(s.TicketReasonSerializer)
        return self._show(tickets.reopen(actor=request.user, ticket=ticket, **data))

    @extend_schema(summary="Rate the resolution once, 1–5 (customer)", request=s.TicketRateSerializer,
                   responses=_ok(s.TicketSerializer))  # fmt: skip
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        ticket = self.get_object()
        data = self._body(s.TicketRateSerializer)
        return self._show(tickets.rate(actor=request.user, ticket=ticket, **data))

    # ------------------------------------------------------------ ownership

    @extend_schema(summary="Take a ticket nobody has handled yet", request=None,
                   responses=_ok(s.TicketSerializer))  # fmt: skip
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        ticket = self.get_object()
        return self._show(tickets.take_ticket(actor=request.user, ticket=ticket))

    @extend_schema(summary="Ask a colleague to take the ticket over", request=s.HandOffRequestSerializer,
                   responses=_ok(s.HandOffSerializer, 201))  # fmt: skip
    @action(detail=True, methods=["post"], url_path="hand-off")
    def hand_off(self, request, pk=None):
        ticket = self.get_object()
        data = self._body(s.HandOffRequestSerializer)
        hand_off = tickets.request_hand_off(actor=request.user, ticket=ticket, **data)
        return Response(s.HandOffSerializer(hand_off).data, status=201)

    def _pending(self, ticket):
        if not _staff(self.request.user):
            raise PermissionDenied()
        return handoffs.hand_off_for(ticket)

    @extend_schema(summary="Accept the hand-off waiting for you", request=None,
                   responses=_ok(s.TicketSerializer))  # fmt: skip
    @action(detail=True, methods=["post"], url_path="accept-hand-off")
    def accept_hand_off(self, request, pk=None):
        ticket = self.get_object()
        hand_off = self._pending(ticket)
        return self._show(tickets.accept_hand_off(actor=request.user, hand_off=hand_off))

    @extend_schema(summary="Decline the hand-off waiting for you, with a reason",
                   request=s.TicketReasonSerializer, responses=_ok(s.HandOffSerializer))  # fmt: skip
    @action(detail=True, methods=["post"], url_path="decline-hand-off")
    def decline_hand_off(self, request, pk=None):
        ticket = self.get_object()
        hand_off = self._pending(ticket)
        data = self._body(s.TicketReasonSerializer)
        hand_off = tickets.decline_hand_off(actor=request.user, hand_off=hand_off, **data)
        return Response(s.HandOffSerializer(hand_off).data)

    @extend_schema(summary="Withdraw the pending hand-off", request=None,
                   responses=_ok(s.HandOffSerializer))  # fmt: skip
    @action(detail=True, methods=["post"], url_path="cancel-hand-off")
    def cancel_hand_off(self, request, pk=None):
        ticket = self.get_object()
        hand_off = self._pending(ticket)
        hand_off = tickets.cancel_hand_off(actor=request.user, hand_off=hand_off)
        return Response(s.HandOffSerializer(hand_off).data)

    @extend_schema(summary="Give the ticket to someone at once (dispatchers, managers)",
                   request=s.TicketReassignSerializer, responses=_ok(s.TicketSerializer))  # fmt: skip
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        ticket = self.get_object()
        data = self._body(s.TicketReassignSerializer)
        return self._show(tickets.reassign(actor=request.user, ticket=ticket, **data))

    @extend_schema(summary="Follow or unfollow the ticket", request=s.TicketWatchSerializer,
                   responses=_ok(s.TicketSerializer))  # fmt: skip
    @action(detail=True, methods=["post"])
    def watch(self, request, pk=None):
        ticket = self.get_object()
        data = self._body(s.TicketWatchSerializer)
        return self._show(tickets.watch(actor=request.user, ticket=ticket, **data))

    # ------------------------------------------------------------ fire

    def _require_staff(self):
        if not _staff(self.request.user):
            raise PermissionDenied()

    @extend_schema(summary="Call for fire on this ticket", request=s.TicketCallFireSerializer,
                   responses=_ok(s.TicketFireCallSerializer, 201))  # fmt: skip
    @action(detail=True, methods=["post"], url_path="call-fire")
    def call_fire(self, request, pk=None):
        ticket = self.get_object()
        self._require_staff()
        data = self._body(s.TicketCallFireSerializer)
        fire_call = fire.call_fire(actor=request.user, ticket=ticket, **data)
        return Response(s.TicketFireCallSerializer(fire_call).data, status=201)

    @extend_schema(summary="Join the ticket's open fire call", request=None,
                   responses=_ok(s.TicketFireSummonsSerializer))  # fmt: skip
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        ticket = self.get_object()
        self._require_staff()
        fire_call = (
            FireCall.objects.visible_to(request.user)
            .filter(ticket=ticket, closed_at__isnull=True)
            .first()
        )
        if fire_call is None:
            raise NotFound(_("This ticket has no open fire call."))
        summons = fire.join_fire(actor=request.user, fire_call=fire_call)
        return Response(s.TicketFireSummonsSerializer(summons).data)

    @extend_schema(summary="Write (or rewrite) the bug brief", request=s.TicketBriefSerializer,
                   responses=_ok(s.TicketBriefOutSerializer))  # fmt: skip
    @action(detail=True, methods=["post"])
    def brief(self, request, pk=None):
        ticket = self.get_object()
        self._require_staff()
        data = self._body(s.TicketBriefSerializer)
        data.setdefault("workaround", "")
        brief = fire.write_brief(actor=request.user, ticket=ticket, **data)
        return Response(s.TicketBriefOutSerializer(brief).data)


def _disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact name RFC 5987-encoded."""
    fallback = (
        "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\;%' else "_" for ch in name).strip()
        or "file"
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@extend_schema_view(retrieve=extend_schema(summary="An attachment's details"))
class AttachmentViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Files are read here; they are added through ``POST /tickets/{id}/attachments/``."""

    serializer_class = s.AttachmentSerializer
    queryset = Attachment.objects.all()
    lookup_value_regex = r"[^/]+"
    filter_backends: list = []

    def get_queryset(self):
        return Attachment.objects.visible_to(self.request.user).select_related("ticket")

    def get_serializer_class(self):
        if _staff(self.request.user):
            return s.AttachmentSerializer
        return s.CustomerAttachmentSerializer

    def get_object(self):
        if parse_id(self.kwargs.get("pk")) is None:
            raise exceptions.NotFound()
        return super().get_object()

    @extend_schema(
        summary="Download the file (always as an attachment)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            404: ErrorSerializer,
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        attachment = self.get_object()
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise NotFound()
        response = FileResponse(handle, as_attachment=True, content_type=attachment.content_type)
        response["Content-Disposition"] = _disposition(attachment.name)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("attachments", AttachmentViewSet, basename="attachment")
urlpatterns = router.urls
