"""API for problems, retrospectives and the daily issue report: thin views over the services.

All of it is for operator staff: a customer or partner gets a 404 on every path, as if
none of it existed. Writes go through ``desk.problems`` and ``desk.retrospectives``;
the report through ``desk.reports``.

- ``/api/v1/problems/`` list, retrieve, create, PATCH; POST ``{id}/link/``, ``{id}/unlink/``,
  ``{id}/transition/``, ``{id}/resolve/``.
- ``/api/v1/tickets/{id}/retrospective/`` GET (the written one, or a pre-filled draft) and PUT.
- ``/api/v1/retrospective-actions/{id}/complete/`` POST.
- ``/api/v1/reports/daily-issues/?date=YYYY-MM-DD[&format=xlsx]``.
"""

from __future__ import annotations

import django_filters
from django.db.models import Count
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from frontline.accounts.models import User
from frontline.accounts.roles import Cap
from frontline.core.api import (
    ErrorSerializer,
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
)
from frontline.core.rest import parse_id
from frontline.desk import problems as problem_services
from frontline.desk import reports, retrospectives
from frontline.desk.access import is_desk_staff
from frontline.desk.exports import XLSX_CONTENT_TYPE
from frontline.desk.models import Problem, Retrospective, RetrospectiveAction, Ticket
from frontline.desk.models.fire import Attribution
from frontline.desk.models.problems import ProblemStatus

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def _staff_only(request) -> None:
    if not is_desk_staff(request.user):
        raise exceptions.NotFound()


# ---------------------------------------------------------------- problems


class ProblemFilter(django_filters.FilterSet):
    """What a list of problems can be filtered by (API and page)."""

    status = django_filters.ChoiceFilter(choices=ProblemStatus.choices)
    attribution = django_filters.ChoiceFilter(choices=Attribution.choices)

    class Meta:
        model = Problem
        fields = ["status", "attribution"]


STATUS_HELP = "One of: " + ", ".join(ProblemStatus.values)


class LinkedTicketSerializer(serializers.ModelSerializer):
    # Plain strings: the ticket API documents the status and severity choices.
    status = serializers.CharField(read_only=True)
    severity = serializers.CharField(read_only=True)

    class Meta:
        model = Ticket
        fields = ["id", "number", "title", "status", "severity"]
        read_only_fields = fields


class ProblemSerializer(StrictModelSerializer):
    fix_owner = ScopedPrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True, required=False
    )
    fix_owner_name = serializers.CharField(
        source="fix_owner", read_only=True, default=None, allow_null=True
    )
    created_by_name = serializers.CharField(source="created_by", read_only=True)
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    ticket_count = serializers.SerializerMethodField()

    class Meta:
        model = Problem
        fields = [
            "id",
            "number",
            "title",
            "description",
            "attribution",
            "fix_plan",
            "fix_owner",
            "fix_owner_name",
            "fix_due_on",
            "status",
            "ticket_count",
            "created_by_name",
            "created_at",
            "updated_at",
            "resolved_at",
        ]
        read_only_fields = [
            "id",
            "number",
            "status",
            "created_at",
            "updated_at",
            "resolved_at",
        ]

    def get_ticket_count(self, obj) -> int:
        count = getattr(obj, "ticket_count", None)
        return count if count is not None else obj.tickets.count()


class ProblemDetailSerializer(ProblemSerializer):
    tickets = serializers.SerializerMethodField()

    class Meta(ProblemSerializer.Meta):
        fields = [*ProblemSerializer.Meta.fields, "tickets"]

    @extend_schema_field(LinkedTicketSerializer(many=True))
    def get_tickets(self, obj):
        request = self.context["request"]
        linked = (
            Ticket.objects.visible_to(request.user)
            .filter(problem=obj)
            .order_by("pk")[: ProblemViewSet.DETAIL_TICKETS]
        )
        return LinkedTicketSerializer(linked, many=True).data


class ProblemCreateSerializer(ProblemSerializer):
    tickets = ScopedPrimaryKeyRelatedField(
        many=True, queryset=Ticket.objects.all(), required=False, write_only=True
    )

    class Meta(ProblemSerializer.Meta):
        fields = [*ProblemSerializer.Meta.fields, "tickets"]


class LinkSerializer(serializers.Serializer):
    tickets = ScopedPrimaryKeyRelatedField(
        many=True, queryset=Ticket.objects.all(), allow_empty=False
    )


class UnlinkSerializer(serializers.Serializer):
    ticket = ScopedPrimaryKeyRelatedField(queryset=Ticket.objects.all())


class TransitionSerializer(serializers.Serializer):
    # A string checked by the service against the transition table (409 lists what is allowed).
    status = serializers.CharField(max_length=24, help_text=STATUS_HELP)


class ResolveSerializer(serializers.Serializer):
    public_reply = serializers.CharField(
        required=False, allow_blank=True, max_length=20_000, default=""
    )


@extend_schema_view(
    list=extend_schema(summary="List problems (staff only)", responses={200: ProblemSerializer}),
    retrieve=extend_schema(
        summary="One problem with its linked tickets", responses={200: ProblemDetailSerializer}
    ),
    create=extend_schema(
        summary="Open a problem, optionally from tickets",
        request=ProblemCreateSerializer,
        responses={201: ProblemDetailSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a problem's title, description, attribution or fix plan",
        responses={200: ProblemDetailSerializer, **ERRORS},
    ),
)
class ProblemViewSet(ScopedModelViewSet):
    """Problems (归因归母): one root cause behind many tickets. Customers get a 404."""

    DETAIL_TICKETS = 500

    queryset = Problem.objects.select_related("fix_owner", "created_by").annotate(
        ticket_count=Count("tickets")
    )
    serializer_class = ProblemSerializer
    filterset_class = ProblemFilter
    write_capability = Cap.MANAGE_PROBLEMS
    ordering_fields = ["created_at", "updated_at", "number", "status", "fix_due_on"]
    ordering = ["-created_at"]
    search_fields = ["number", "title"]

    def check_permissions(self, request):
        # Before the capability check: a customer learns nothing, not even "forbidden".
        if request.user.is_authenticated:
            _staff_only(request)
        super().check_permissions(request)

    def get_serializer_class(self):
        if self.action == "create":
            return ProblemCreateSerializer
        if self.action in {"retrieve", "partial_update"}:
            return ProblemDetailSerializer
        return ProblemSerializer

    def _detail(self, problem, status_code=200):
        problem = self.get_queryset().get(pk=problem.pk)
        data = ProblemDetailSerializer(problem, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = ProblemCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        problem = problem_services.create_problem(actor=request.user, **serializer.validated_data)
        return self._detail(problem, status_code=201)

    def partial_update(self, request, *args, **kwargs):
        problem = self.get_object()
        serializer = ProblemSerializer(
            problem, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        problem = problem_services.update_problem(
            actor=request.user, problem=problem, **serializer.validated_data
        )
        return self._detail(problem)

    @extend_schema(
        summary="Link more tickets to this problem",
        request=LinkSerializer,
        responses={200: ProblemDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def link(self, request, pk=None):
        problem = self.get_object()
        serializer = LinkSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        problem_services.link_tickets(
            actor=request.user, problem=problem, tickets=serializer.validated_data["tickets"]
        )
        return self._detail(problem)

    @extend_schema(
        summary="Take one ticket out of this problem",
        request=UnlinkSerializer,
        responses={200: ProblemDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def unlink(self, request, pk=None):
        problem = self.get_object()
        serializer = UnlinkSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        problem_services.unlink_ticket(
            actor=request.user, problem=problem, ticket=serializer.validated_data["ticket"]
        )
        return self._detail(problem)

    @extend_schema(
        summary="Move the problem to another status (409 lists the allowed ones)",
        request=TransitionSerializer,
        responses={200: ProblemDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        problem = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        problem_services.transition_problem(
            actor=request.user, problem=problem, to_status=serializer.validated_data["status"]
        )
        return self._detail(problem)

    @extend_schema(
        summary="Resolve the problem; a public reply goes to every linked ticket",
        request=ResolveSerializer,
        responses={200: ProblemDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        problem = self.get_object()
        serializer = ResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        problem_services.resolve_problem(
            actor=request.user,
            problem=problem,
            public_reply=serializer.validated_data.get("public_reply", ""),
        )
        return self._detail(problem)


# ---------------------------------------------------------------- retrospectives


class TimelineRowSerializer(serializers.Serializer):
    at = serializers.CharField(max_length=40, help_text="ISO 8601 date and time")
    kind = serializers.CharField(max_length=40, allow_blank=True, required=False, default="")
    text = serializers.CharField(max_length=retrospectives.MAX_TIMELINE_TEXT)


class RetrospectiveActionSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner", read_only=True)

    class Meta:
        model = RetrospectiveAction
        fields = ["id", "description", "owner", "owner_name", "due_on", "done_at"]
        read_only_fields = fields


class RetrospectiveSerializer(serializers.Serializer):
    """The written retrospective, or (``id`` null) a draft with the timeline pre-filled."""

    id = serializers.IntegerField(allow_null=True)
    ticket = serializers.IntegerField()
    summary = serializers.CharField(allow_blank=True)
    attribution = serializers.CharField(allow_blank=True)
    timeline = TimelineRowSerializer(many=True)
    actions = RetrospectiveActionSerializer(many=True)
    required = serializers.BooleanField(help_text="Whether closing the ticket needs one (S1, S2)")
    author_name = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class ActionWriteSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    description = serializers.CharField(max_length=300)
    owner = ScopedPrimaryKeyRelatedField(queryset=User.objects.all())
    due_on = serializers.DateField()


class RetrospectiveWriteSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=retrospectives.MAX_SUMMARY)
    attribution = serializers.ChoiceField(choices=Attribution.choices)
    timeline = TimelineRowSerializer(
        many=True,
        required=False,
        allow_null=True,
        max_length=retrospectives.MAX_TIMELINE_ROWS,
        help_text="Leave out to keep the current one (or pre-fill it from the ticket's events)",
    )
    actions = ActionWriteSerializer(
        many=True, required=False, max_length=retrospectives.MAX_ACTIONS, default=list
    )


def _retrospective_data(ticket: Ticket, retro: Retrospective | None) -> dict:
    if retro is None:
        return {
            "id": None,
            "ticket": ticket.pk,
            "summary": "",
            "attribution": "",
            "timeline": retrospectives.prefill_timeline(ticket),
            "actions": [],
            "required": retrospectives.requires_retrospective(ticket),
            "author_name": None,
            "updated_at": None,
        }
    actions = retro.actions.select_related("owner").order_by("due_on", "pk")
    return {
        "id": retro.pk,
        "ticket": ticket.pk,
        "summary": retro.summary,
        "attribution": retro.attribution,
        "timeline": retro.timeline,
        "actions": list(actions),
        "required": retrospectives.requires_retrospective(ticket),
        "author_name": str(retro.author),
        "updated_at": retro.updated_at,
    }


class TicketRetrospectiveView(APIView):
    """A ticket's retrospective (回溯报告). Staff read it; staff who work tickets write it."""

    def _ticket(self, request, pk) -> Ticket:
        _staff_only(request)
        ticket_id = parse_id(pk)
        ticket = Ticket.objects.visible_to(request.user).filter(pk=ticket_id).first()
        if ticket_id is None or ticket is None:
            raise exceptions.NotFound()
        return ticket

    def _respond(self, ticket):
        retro = Retrospective.objects.filter(ticket=ticket).select_related("author").first()
        data = RetrospectiveSerializer(_retrospective_data(ticket, retro)).data
        return Response(data)

    @extend_schema(
        summary="The ticket's retrospective, or a draft pre-filled from its events",
        responses={200: RetrospectiveSerializer, 404: ErrorSerializer},
    )
    def get(self, request, pk):
        return self._respond(self._ticket(request, pk))

    @extend_schema(
        summary="Write or rewrite the retrospective (actions replace the list; ids keep done state)",
        request=RetrospectiveWriteSerializer,
        responses={200: RetrospectiveSerializer, **ERRORS},
    )
    def put(self, request, pk):
        ticket = self._ticket(request, pk)
        serializer = RetrospectiveWriteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        retrospectives.write_retrospective(
            actor=request.user,
            ticket=ticket,
            summary=data["summary"],
            attribution=data["attribution"],
            timeline=data.get("timeline"),
            actions=data.get("actions") or [],
        )
        return self._respond(ticket)


class CompleteActionView(APIView):
    @extend_schema(
        summary="Mark a retrospective action done (twice is harmless)",
        request=None,
        responses={200: RetrospectiveActionSerializer, **ERRORS},
    )
    def post(self, request, pk):
        _staff_only(request)
        action_id = parse_id(pk)
        action_obj = (
            RetrospectiveAction.objects.visible_to(request.user).filter(pk=action_id).first()
            if action_id
            else None
        )
        if action_obj is None:
            raise exceptions.NotFound()
        done = retrospectives.complete_action(actor=request.user, action=action_obj)
        return Response(RetrospectiveActionSerializer(done).data)


# ---------------------------------------------------------------- daily issue report


class SeverityRowSerializer(serializers.Serializer):
    severity = serializers.CharField(help_text="S1…S4; empty for the totals row")
    label = serializers.CharField()
    new = serializers.IntegerField()
    resolved = serializers.IntegerField()
    open = serializers.IntegerField(help_text="Open at the end of the day")
    sla_warnings = serializers.IntegerField()
    sla_breaches = serializers.IntegerField()


class ReportFireCallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.IntegerField(source="ticket_id")
    ticket_number = serializers.CharField()
    ticket_title = serializers.CharField()
    level = serializers.CharField()
    message = serializers.CharField()
    called_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class ReportTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    customer = serializers.CharField()
    owner = serializers.CharField()
    created_at = serializers.DateTimeField()
    age_days = serializers.IntegerField()


class ReportProblemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    open_tickets = serializers.IntegerField()


class DailyReportSerializer(serializers.Serializer):
    date = serializers.DateField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    by_severity = SeverityRowSerializer(many=True)
    totals = SeverityRowSerializer()
    fire_call_count = serializers.IntegerField()
    fire_calls = ReportFireCallSerializer(many=True)
    oldest_open = ReportTicketSerializer(many=True)
    top_problems = ReportProblemSerializer(many=True)


class DailyReportView(APIView):
    """The daily issue report (问题日报) for one day in Asia/Shanghai."""

    renderer_classes = [JSONRenderer]
    allowed_params = {"date", "format"}

    def perform_content_negotiation(self, request, force=False):
        # ``format=xlsx`` picks the download below, not a DRF renderer: errors stay JSON.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        summary="Daily issue report: new/resolved/open by severity, SLA, fire calls, oldest, problems",
        parameters=[
            OpenApiParameter(
                "date", OpenApiTypes.DATE, description="YYYY-MM-DD; default today (Asia/Shanghai)"
            ),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "xlsx"]),
        ],
        responses={
            (200, "application/json"): DailyReportSerializer,
            (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def get(self, request):
        unknown = sorted(set(request.query_params) - self.allowed_params)
        if unknown:
            raise exceptions.ValidationError({n: [_("Unknown query parameter.")] for n in unknown})
        reports.check_access(request.user)
        fmt = request.query_params.get("format", "json")
        if fmt not in {"json", "xlsx"}:
            raise exceptions.ValidationError({"format": [_("Use json or xlsx.")]})
        date = reports.parse_report_date(request.query_params.get("date"))
        report = reports.build_daily_report(date, request.user)
        if fmt == "xlsx":
            response = HttpResponse(reports.report_xlsx(report), content_type=XLSX_CONTENT_TYPE)
            response["Content-Disposition"] = (
                f'attachment; filename="{reports.report_filename(report)}"'
            )
            return response
        return Response(DailyReportSerializer(report).data)


router = SimpleRouter()
router.register("problems", ProblemViewSet, basename="problem")
urlpatterns = [
    *router.urls,
    path(
        "tickets/<str:pk>/retrospective/",
        TicketRetrospectiveView.as_view(),
        name="ticket-retrospective",
    ),
    path(
        "retrospective-actions/<str:pk>/complete/",
        CompleteActionView.as_view(),
        name="retrospective-action-complete",
    ),
    path("reports/daily-issues/", DailyReportView.as_view(), name="daily-issues-report"),
]
