"""Rounds API, which the mobile view itself uses: thin viewsets over the services in
``frontline.inspections.rounds`` / ``schedules`` / ``quality``.

Reads go through ``visible_to(user)``: operator staff see every project's rounds, a
customer its own projects', anyone else nothing (404 on every path). Each verb finds the
round through that scoping first, then the service decides who may act (403, nothing
changed) and whether the round's status allows it (409).
"""

from __future__ import annotations

import json

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from frontline.accounts.models import Team, User
from frontline.core.api import ErrorSerializer, ScopedModelViewSet
from frontline.core.errors import NotFound, ValidationFailed
from frontline.core.rest import parse_id
from frontline.field import access as field_access
from frontline.inspections import access, quality, rounds, schedules
from frontline.inspections import serializers_rounds as s
from frontline.inspections.models import CheckItem, Checkpoint, PointVisit, Reading, Round, Route
from frontline.inspections.models.scoping import customer_of
from frontline.inspections.states import RoundStatus
from frontline.sites.filters import ScopedModelChoiceFilter

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}
SHOWS = {200: s.RoundDetailSerializer, **ERRORS}
PHOTO_PREFIX = "photo_"


def _user(request):
    return getattr(request, "user", None)


def routes(request):
    return Route.objects.visible_to(_user(request))


def projects(request):
    from frontline.sites.models import Project

    user = _user(request)
    visible = Route.objects.visible_to(user).values("project_id")
    return Project.objects.filter(pk__in=visible)


class RoundFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=RoundStatus.choices, label=_("Status"), distinct=False
    )
    route = ScopedModelChoiceFilter(queryset=routes, label=_("Route"))
    project = ScopedModelChoiceFilter(queryset=projects, label=_("Project"))
    assignee = django_filters.CharFilter(method="filter_assignee", label=_("Engineer (id or me)"))
    offered = django_filters.BooleanFilter(label=_("Offered for grab"))
    date_from = django_filters.DateFilter(
        field_name="window_start", lookup_expr="date__gte", label=_("Window opens on or after")
    )
    date_to = django_filters.DateFilter(
        field_name="window_start", lookup_expr="date__lte", label=_("Window opens on or before")
    )

    class Meta:
        model = Round
        fields = ["status", "route", "project", "assignee", "offered", "date_from", "date_to"]

    def filter_assignee(self, queryset, name, value):
        text = str(value or "").strip()
        if not text:
            return queryset
        if text == "me":
            return queryset.filter(assignee=_user(self.request))
        pk = parse_id(text)
        if pk is None:
            raise exceptions.ValidationError({"assignee": [_("Give an id or “me”.")]})
        return queryset.filter(assignee_id=pk)


class CustomerRoundFilter(RoundFilter):
    """A customer filters by route, project, status and dates only."""

    assignee = offered = None

    class Meta(RoundFilter.Meta):
        fields = ["status", "route", "project", "date_from", "date_to"]


def _detail_prefetch(user):
    items = CheckItem.objects.filter(is_active=True).order_by("position", "id")
    checkpoints = (
        Checkpoint.objects.filter(is_active=True)
        .select_related("asset")
        .prefetch_related(Prefetch("items", queryset=items, to_attr="active_items"))
        .order_by("position", "id")
    )
    readings = Reading.objects.select_related("item").order_by("item__position", "id")
    visits = (
        PointVisit.objects.visible_to(user)
        .select_related("checkpoint", "by")
        .prefetch_related(Prefetch("readings", queryset=readings))
        .order_by("recorded_at", "id")
    )
    return [
        Prefetch("route__checkpoints", queryset=checkpoints, to_attr="active_checkpoints"),
        Prefetch("visits", queryset=visits, to_attr="all_visits"),
    ]


def verb(summary: str, request=None, description: str = "", responses=None):
    return extend_schema(
        summary=summary,
        description=description
        or "404 when you cannot see the round, 403 when it is not yours to act on, 409 when "
        "its status forbids this (`fields.status` gives the status).",
        request=request,
        responses=responses or SHOWS,
    )


@extend_schema_view(
    list=extend_schema(
        summary="List the rounds you can see",
        description="Filters: status (repeatable), route, project, assignee (an id or `me`), "
        "offered, date_from / date_to on the window's opening day. `ordering` by "
        "window_start, status, quality_score or finished_at.",
        responses=s.RoundSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One round with its route's checkpoints and items, visits and readings",
        responses=SHOWS,
    ),
    create=extend_schema(
        summary="Create an ad hoc round (route managers, dispatchers)",
        request=s.RoundCreateSerializer,
        responses={201: s.RoundDetailSerializer, **ERRORS},
    ),
)
class RoundViewSet(ScopedModelViewSet):
    queryset = Round.objects.all()
    serializer_class = s.RoundSerializer
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = r"[0-9]+"
    ordering = ["-window_start", "-id"]
    ordering_fields = ["window_start", "status", "quality_score", "finished_at"]
    parser_classes = [JSONParser]

    @property
    def filterset_class(self):
        if getattr(self, "swagger_fake_view", False):
            return RoundFilter
        return CustomerRoundFilter if customer_of(self.request.user) else RoundFilter

    def get_queryset(self):
        user = self.request.user
        qs = Round.objects.visible_to(user).select_related("route", "project", "assignee", "team")
        if self.action in ("list",):
            return qs
        return qs.prefetch_related(*_detail_prefetch(user))

    def get_serializer_class(self):
        return s.RoundSerializer if self.action == "list" else s.RoundDetailSerializer

    def can_write(self, obj=None) -> bool:
        user = self.request.user
        if obj is None and self.action == "create":
            return access.may_manage_routes(user) or field_access.may_dispatch(user)
        # Customers read; on anything else the service decides (403, nothing changed).
        return access.is_inspection_staff(user)

    def body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def show(self, round_, status: int = 200) -> Response:
        fresh = (
            Round.objects.visible_to(self.request.user)
            .select_related("route", "project", "assignee", "team")
            .prefetch_related(*_detail_prefetch(self.request.user))
            .get(pk=round_.pk)
        )
        return Response(
            s.RoundDetailSerializer(fresh, context=self.get_serializer_context()).data, status
        )

    def _visible(self, model, pk):
        if pk is None:
            return None
        found = model.objects.visible_to(self.request.user).filter(pk=pk).first()
        if found is None:
            raise ValidationFailed(
                fields={model._meta.model_name: [_("No such object: %(pk)s.") % {"pk": pk}]}
            )
        return found

    def create(self, request, *args, **kwargs):
        data = self.body(s.RoundCreateSerializer)
        route = self._visible(Route, data["route"])
        assignee = None
        if data.get("assignee"):
            assignee = User.objects.visible_to(request.user).filter(pk=data["assignee"]).first()
            if assignee is None:
                raise ValidationFailed(fields={"assignee": [_("Choose an active engineer.")]})
        team = None
        if data.get("team"):
            team = Team.objects.visible_to(request.user).filter(pk=data["team"]).first()
            if team is None:
                raise ValidationFailed(fields={"team": [_("No such team.")]})
        r = schedules.create_round(actor=request.user, route=route, window_start=data["window_start"],
                                   window_end=data["window_end"], assignee=assignee, team=team)  # fmt: skip
        return self.show(r, 201)

    # ------------------------------------------------------------ verbs

    @verb("Claim an offered round: the first claim wins",
          description="409 `round_taken` when someone else claimed it first, `not_offered` when "
          "it is not on offer; 403 for engineers outside the round's team.")  # fmt: skip
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        return self.show(rounds.claim_round(actor=request.user, round=self.get_object()))

    @verb("Start the round (its engineer; on an unassigned round, whoever starts it takes it)",
          s.RoundAtSerializer)  # fmt: skip
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        r = self.get_object()
        data = self.body(s.RoundAtSerializer)
        return self.show(rounds.start_round(actor=request.user, round=r, at=data.get("at")))

    @verb("Finish the round: it is scored", s.RoundAtSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        r = self.get_object()
        data = self.body(s.RoundAtSerializer)
        return self.show(rounds.finish_round(actor=request.user, round=r, at=data.get("at")))

    @verb("Cancel the round, with a reason (route managers, dispatchers)", s.RoundReasonSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        r = self.get_object()
        data = self.body(s.RoundReasonSerializer)
        return self.show(rounds.cancel_round(actor=request.user, round=r, reason=data["reason"]))

    @verb(
        "Adjust the quality score, with a reason (quality reviewers)", s.RoundAdjustScoreSerializer
    )
    @action(detail=True, methods=["post"], url_path="adjust-score")
    def adjust_score(self, request, pk=None):
        r = self.get_object()
        data = self.body(s.RoundAdjustScoreSerializer)
        return self.show(quality.adjust_score(actor=request.user, round=r, **data))

    def _checkpoint(self, r: Round, data: dict) -> Checkpoint:
        on_route = Checkpoint.objects.filter(route_id=r.route_id)
        if data.get("checkpoint"):
            found = on_route.filter(pk=data["checkpoint"]).first()
        elif data.get("checkpoint_code"):
            found = on_route.filter(code=data["checkpoint_code"].strip()).first()
        else:
            found = on_route.filter(qr_value=data["qr"].strip()).first()
        if found is None:
            raise ValidationFailed(
                fields={"checkpoint": [_("This checkpoint is not on the round's route.")]}
            )
        return found

    def _readings(self, raw):
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise ValidationFailed(fields={"readings": [_("Give the readings as JSON.")]})
        return raw

    def _photos(self, request) -> dict:
        photos = {}
        for key in request.FILES:
            if not key.startswith(PHOTO_PREFIX):
                raise ValidationFailed(fields={key: [_("Unknown field.")]})
            photos[key[len(PHOTO_PREFIX) :]] = request.FILES[key]
        return photos

    @verb(
        "Record a checkpoint visit with its readings",
        s.RoundVisitRequestSerializer,
        description="The checkpoint by id, by code or by its scanned QR value. A retry with the "
        "same `client_id` returns the first visit (200); a new visit is 201. 400 naming "
        "`readings.<item id>` for a wrong type or an absurd value, `checkpoint` for a "
        "checkpoint not on the route; 409 `already_visited`, `round_closed`, "
        "`client_id_used`. Multipart: `readings` as JSON text, photos as `photo_<item id>`.",
        responses={200: s.PointVisitSerializer, 201: s.PointVisitSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser, FormParser])
    def visits(self, request, pk=None):
        r = self.get_object()
        data = self.body(s.RoundVisitRequestSerializer)
        visit, created = rounds.record_visit(
            actor=request.user, round=r, checkpoint=self._checkpoint(r, data),
            readings=self._readings(data.get("readings")), client_id=data.get("client_id"),
            started_at=data.get("started_at"), recorded_at=data.get("recorded_at"),
            scanned=data.get("scanned", False), note=data.get("note", ""),
            photos=self._photos(request),
        )  # fmt: skip
        return self._visit(visit, created)

    @verb(
        "Skip a checkpoint, with a reason",
        s.RoundSkipRequestSerializer,
        description="`other` needs a note. Idempotent by `client_id` like a visit.",
        responses={200: s.PointVisitSerializer, 201: s.PointVisitSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def skip(self, request, pk=None):
        r = self.get_object()
        data = self.body(s.RoundSkipRequestSerializer)
        visit, created = rounds.skip_point(
            actor=request.user, round=r, checkpoint=self._checkpoint(r, data),
            reason=data["reason"], note=data.get("note", ""), client_id=data.get("client_id"),
            recorded_at=data.get("recorded_at"),
        )  # fmt: skip
        return self._visit(visit, created)

    def _visit(self, visit, created: bool) -> Response:
        fresh = (
            PointVisit.objects.select_related("checkpoint", "by")
            .prefetch_related(Prefetch("readings", queryset=Reading.objects.select_related("item")))
            .filter(pk=visit.pk)
            .first()
        )
        if fresh is None:
            raise NotFound()
        return Response(s.PointVisitSerializer(fresh).data, status=201 if created else 200)


router = SimpleRouter()
router.register("rounds", RoundViewSet, basename="round")
urlpatterns = router.urls
