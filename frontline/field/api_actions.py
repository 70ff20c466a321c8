"""The work order verbs, ``POST /api/v1/work-orders/{id}/<verb>/``: one service call each.

Each verb first finds the order through the caller's scoping (404 for what they may not
see), then lets the service decide whether they may act (403, nothing changed) and
whether the status allows it (409 with the allowed next statuses in ``fields.status``).
Most answer with the work order as the caller reads it afterwards.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from frontline.core.api import ErrorSerializer
from frontline.core.errors import Conflict, ValidationFailed
from frontline.core.rest import parse_id
from frontline.desk import uploads
from frontline.field import serializers as s
from frontline.field import services
from frontline.field.models import GrabOffer, WorkOrderEvent, WorkOrderPhoto
from frontline.field.states import OfferStatus

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}
# Room for the multipart framing around one photo of the largest allowed size.
_MULTIPART_SLACK = 64 * 1024


def ok(serializer, status: int = 200):
    return {status: serializer, **ERRORS}


SHOWS = ok(s.WorkOrderDetailSerializer)


def verb(summary: str, request=None, description: str = "", responses=None):
    """Schema for one verb: its body, the work order back, and the error bodies."""
    return extend_schema(
        summary=summary,
        description=description
        or "404 when you cannot see the order, 403 when you may not act on it, 409 (with "
        "`fields.status` listing the allowed next statuses) when its status forbids this.",
        request=request,
        responses=responses or SHOWS,
    )


class WorkOrderActions:
    """Mixed into ``WorkOrderViewSet`` (which provides ``get_object`` and ``show``)."""

    def body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    # ------------------------------------------------------------ the dispatcher's

    @verb(
        "Agree a new appointment window (dispatchers, the outlet's admin)", s.AppointmentSerializer
    )
    @action(detail=True, methods=["post"])
    def appointment(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.AppointmentSerializer)
        return self.show(services.set_appointment(actor=request.user, work_order=wo, **data))

    @verb(
        "Give the order to an engineer (dispatchers; an outlet's admin to its own engineers)",
        s.DispatchSerializer,
        description="The engineer must be qualified on the day, with valid certifications: "
        "else 400 `not_qualified`. An outlet's admin can choose only the outlet's engineers.",
    )
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_engineer(self, request, pk=None):
        # Not called ``dispatch``: that name is the view's request handler.
        wo = self.get_object()
        data = self.body(s.DispatchSerializer)
        return self.show(services.dispatch(actor=request.user, work_order=wo, **data))

    @verb("Send the order to a partner outlet (dispatchers)", s.SendToPartnerSerializer)
    @action(detail=True, methods=["post"], url_path="send-to-partner")
    def send_to_partner(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.SendToPartnerSerializer)
        return self.show(services.send_to_partner(actor=request.user, work_order=wo, **data))

    @verb(
        "Offer the order to every eligible engineer",
        s.OfferRequestSerializer,
        description="400 `no_eligible_engineer` when nobody qualifies (skills, certification, "
        "distance, working hours).",
        responses=ok(s.OfferSerializer, 201),
    )
    @action(detail=True, methods=["post"])
    def offer(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.OfferRequestSerializer)
        grab = services.offer(actor=request.user, work_order=wo, **data)
        return Response(s.OfferSerializer(grab).data, status=201)

    @verb("Take an open offer back into the queue", None)
    @action(detail=True, methods=["post"], url_path="withdraw-offer")
    def withdraw_offer(self, request, pk=None):
        wo = self.get_object()
        return self.show(services.withdraw_offer(actor=request.user, work_order=wo))

    @verb("Close completed work (sends the customer a survey)", None)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        wo = self.get_object()
        return self.show(services.close(actor=request.user, work_order=wo))

    @verb("Cancel the order, with a reason (dispatchers)", s.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.ReasonSerializer)
        return self.show(services.cancel(actor=request.user, work_order=wo, **data))

    @verb("Put the order on hold, with a reason (dispatchers, its engineer)", s.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.ReasonSerializer)
        return self.show(services.hold(actor=request.user, work_order=wo, **data))

    @verb("Resume an order on hold", None)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        wo = self.get_object()
        return self.show(services.resume(actor=request.user, work_order=wo))

    @verb("Write an internal note", s.NoteSerializer, responses=ok(s.EventSerializer, 201))
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.NoteSerializer)
        services.add_note(actor=request.user, work_order=wo, **data)
        event = WorkOrderEvent.objects.filter(work_order=wo, author=request.user).last()
        return Response(s.EventSerializer(event).data, status=201)

    @verb(
        "Email the customer a link to follow the visit (dispatchers)",
        None,
        description="The link's token is emailed, never returned.",
        responses={202: s.AcceptedSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="timeline-link")
    def timeline_link(self, request, pk=None):
        wo = self.get_object()
        services.send_timeline_link(actor=request.user, work_order=wo)
        body = {"code": "queued", "detail": str(_("The link was emailed to the customer."))}
        return Response(body, status=202)

    # ------------------------------------------------------------ the engineer's

    @verb(
        "Claim the order's open offer (engineers)",
        s.ClaimSerializer,
        description="Without `offer`, the order's open offer. 409 with a reason code: "
        "`offer_taken`, `offer_expired`, `offer_closed`, `not_offered`, `not_eligible`.",
    )
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        wo = self.get_object()
        offer_id = self.body(s.ClaimSerializer).get("offer")
        offers = GrabOffer.objects.filter(work_order=wo)
        if offer_id is not None:
            if not offers.filter(pk=offer_id).exists():
                raise ValidationFailed(fields={"offer": [_("No such offer for this work order.")]})
        else:
            # The open one, else the latest: the service then says why it cannot be had.
            offer_id = (
                offers.filter(status=OfferStatus.OPEN).values_list("pk", flat=True).first()
                or offers.order_by("-created_at", "-id").values_list("pk", flat=True).first()
            )
            if offer_id is None:
                raise Conflict(_("This work is not on offer."), code="offer_closed")
        return self.show(services.claim_offer(actor=request.user, offer_id=offer_id))

    @verb("Accept the order (its engineer)", None)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        wo = self.get_object()
        return self.show(services.accept(actor=request.user, work_order=wo))

    @verb("Reject the order back to the queue, with a reason (its engineer)", s.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.ReasonSerializer)
        return self.show(services.reject(actor=request.user, work_order=wo, **data))

    @verb("On the way (its engineer); a position updates the ETA", s.OptionalPositionSerializer)
    @action(detail=True, methods=["post"], url_path="start-travel")
    def start_travel(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.OptionalPositionSerializer)
        return self.show(services.start_travel(actor=request.user, work_order=wo, **data))

    @verb(
        "Check in on site with a GPS position (its engineer)",
        s.PositionSerializer,
        description="Far from the site is allowed, and flagged for the dispatcher.",
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.PositionSerializer)
        return self.show(services.check_in(actor=request.user, work_order=wo, **data))

    @verb("Answer one checklist item (its engineer, on site)", s.ChecklistAnswerSerializer)
    @action(detail=True, methods=["post"])
    def checklist(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.ChecklistAnswerSerializer)
        services.set_checklist_item(actor=request.user, work_order=wo, item_id=data["item"],
                                    result=data["result"], note=data.get("note", ""))  # fmt: skip
        return self.show(wo)

    @extend_schema(
        summary="Add a photo (multipart: file, caption, client_id)",
        description="PNG, JPEG or WebP by content, size-limited (413). A repeated client_id "
        "(an offline retry) returns the first upload with 200.",
        request={"multipart/form-data": s.PhotoUploadSerializer},
        responses={201: s.PhotoSerializer, 200: s.PhotoSerializer, 413: ErrorSerializer,
                   **ERRORS},
    )  # fmt: skip
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def photos(self, request, pk=None):
        wo = self.get_object()
        length = parse_id(request.META.get("CONTENT_LENGTH") or "") or 0
        if length > uploads.max_bytes() + _MULTIPART_SLACK:
            raise uploads.UploadTooLarge()
        data = self.body(s.PhotoUploadSerializer)
        client_id = data.get("client_id")
        used = WorkOrderPhoto.objects.filter(client_id=client_id) if client_id else None
        if used is not None and used.exclude(work_order=wo).exists():
            # Client ids are unique across orders: never answer with another order's photo.
            raise ValidationFailed(fields={"client_id": [_("This id was already used.")]})
        replay = used is not None and used.exists()
        photo = services.add_photo(actor=request.user, work_order=wo, **data)
        return Response(s.PhotoSerializer(photo).data, status=200 if replay else 201)

    @verb("The customer's signature, drawn on the engineer's screen", s.SignSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.SignSerializer)
        return self.show(services.sign(actor=request.user, work_order=wo, **data))

    @verb(
        "Complete the work and check out (its engineer)",
        s.CompleteSerializer,
        description="400 `checklist_open` while a checklist item is unanswered.",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        wo = self.get_object()
        data = self.body(s.CompleteSerializer)
        return self.show(services.complete(actor=request.user, work_order=wo, **data))
