"""Engineers API: profiles as dispatch sees them, one's own day, and position pings.

Field staff see every engineer; a partner outlet's admin the outlet's engineers; anyone
else only their own profile (a customer: none). An engineer is addressed by their user
id, the same id ``dispatch`` takes. Positions are written only through
``record_position``; a repeated ``client_id`` (a retry from a flaky network) returns the
first ping with 200 instead of 201.
"""

from __future__ import annotations

from django.db.models import Avg, Count, F, Prefetch, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from frontline.accounts.models import Skill
from frontline.accounts.roles import Cap
from frontline.core.errors import ValidationFailed
from frontline.field import access, services
from frontline.field.api_actions import ERRORS, ok
from frontline.field.api_orders import READ_SERIALIZERS, audience
from frontline.field.engineers import availability, effective_skills
from frontline.field.models import Certification, EngineerProfile, PositionPing, WorkOrder
from frontline.field.serializers import StrictSerializer
from frontline.field.states import ASSIGNED_STATUSES, WorkOrderStatus

# ---------------------------------------------------------------- shapes


class EffectiveSkillSerializer(serializers.Serializer):
    skill = serializers.CharField()
    skill_name = serializers.CharField()
    level = serializers.IntegerField()


class CertificationSerializer(serializers.ModelSerializer):
    skill = serializers.CharField(source="skill.code", read_only=True)
    valid = serializers.SerializerMethodField()

    class Meta:
        model = Certification
        fields = ["id", "skill", "name", "number", "issued_on", "expires_on", "valid"]
        read_only_fields = fields

    def get_valid(self, obj) -> bool:
        return obj.expires_on is None or obj.expires_on >= timezone.localdate()


class WorkingHoursSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class EngineerSerializer(serializers.ModelSerializer):
    """An engineer as dispatch sees them today. ``skills`` are the effective ones: a skill
    whose certification has expired is not there."""

    id = serializers.IntegerField(source="user_id", read_only=True)
    name = serializers.CharField(source="user.__str__", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    skills = serializers.SerializerMethodField()
    certifications = CertificationSerializer(
        source="user.certifications", many=True, read_only=True
    )
    today = serializers.SerializerMethodField()
    csat_avg = serializers.FloatField(read_only=True, allow_null=True)
    nps_avg = serializers.FloatField(read_only=True, allow_null=True)
    survey_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = EngineerProfile
        fields = ["id", "name", "email", "phone", "region", "is_active", "skills",
                  "certifications", "today", "home_latitude", "home_longitude", "last_latitude",
                  "last_longitude", "last_position_at", "daily_capacity_minutes",
                  "offer_radius_km", "workday_start", "workday_end", "works_weekends",
                  "csat_avg", "nps_avg", "survey_count"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(EffectiveSkillSerializer(many=True))
    def get_skills(self, obj):
        held = self.context["skills"].get(obj.user_id, {})
        names = self.context["skill_rows"]
        return [
            {"skill": names[sid].code, "skill_name": names[sid].name, "level": level}
            for sid, level in sorted(held.items(), key=lambda item: names[item[0]].code)
        ]

    @extend_schema_field(WorkingHoursSerializer(allow_null=True))
    def get_today(self, obj):
        hours = self.context["hours"].get(obj.user_id)
        return {"start": hours.start, "end": hours.end} if hours else None


def describe(profiles: list, context: dict) -> dict:
    """What the serializer needs for a page of engineers, in four queries."""
    day = timezone.localdate()
    ids = [p.user_id for p in profiles]
    skills = effective_skills(ids, day)
    skill_ids = {sid for held in skills.values() for sid in held}
    return {
        **context,
        "skills": skills,
        "skill_rows": Skill.objects.in_bulk(skill_ids),
        "hours": availability(profiles, day),
    }


class PositionInputSerializer(StrictSerializer):
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    accuracy_m = serializers.IntegerField(
        min_value=0, max_value=100_000, required=False, allow_null=True
    )
    recorded_at = serializers.DateTimeField(required=False, allow_null=True)
    client_id = serializers.UUIDField(required=False, allow_null=True)


class PositionPingSerializer(serializers.ModelSerializer):
    class Meta:
        model = PositionPing
        fields = ["id", "latitude", "longitude", "accuracy_m", "recorded_at", "client_id",
                  "created_at"]  # fmt: skip
        read_only_fields = fields


class MyDaySerializer(serializers.Serializer):
    engineer = EngineerSerializer()
    jobs = READ_SERIALIZERS["staff"][0](many=True)


# ---------------------------------------------------------------- views


def todays_jobs(user):
    """The engineer's open jobs up to today (undated ones too), in route order."""
    today = timezone.localdate()
    return (
        WorkOrder.objects.visible_to(user)
        .filter(assignee=user, status__in=ASSIGNED_STATUSES | {WorkOrderStatus.ON_HOLD})
        .annotate(day_at=Coalesce("planned_start", "window_start"))
        .filter(Q(day_at__isnull=True) | Q(day_at__date__lte=today))
        .select_related("customer", "site", "project", "asset", "assignee", "partner", "team",
                        "ticket")
        .prefetch_related("required_skills__skill", "offers")
        .order_by(F("route_position").asc(nulls_last=True), F("day_at").asc(nulls_last=True),
                  "id")
    )  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="List engineers (field staff; an outlet's admin: its own engineers)",
        responses=EngineerSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One engineer, by user id", responses={200: EngineerSerializer, **ERRORS}
    ),
)
class EngineerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = EngineerSerializer
    queryset = EngineerProfile.objects.all()
    lookup_field = "user"
    lookup_url_kwarg = "pk"
    lookup_value_regex = r"[0-9]+"
    filter_backends: list = []

    def get_queryset(self):
        user = self.request.user
        qs = EngineerProfile.objects.visible_to(user)
        if not (access.is_field_staff(user) or user.has_capability(Cap.ASSIGN_PARTNER_WORK)):
            qs = qs.filter(user=user)
        certifications = Certification.objects.select_related("skill").order_by("expires_on", "id")
        return (
            qs.select_related("user")
            .prefetch_related(Prefetch("user__certifications", queryset=certifications))
            .annotate(
                csat_avg=Avg("user__surveys__csat"),
                nps_avg=Avg("user__surveys__nps"),
                survey_count=Count("user__surveys"),
            )
            .order_by("user__display_name", "user__email", "pk")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = describe(page, self.get_serializer_context())
        return self.get_paginated_response(
            EngineerSerializer(page, many=True, context=context).data
        )

    def retrieve(self, request, *args, **kwargs):
        profile = self.get_object()
        context = describe([profile], self.get_serializer_context())
        return Response(EngineerSerializer(profile, context=context).data)

    @extend_schema(
        summary="Your own profile and today's jobs in route order",
        responses={200: MyDaySerializer, **ERRORS},
    )
    @action(detail=False, methods=["get"])
    def me(self, request):
        profile = self.get_queryset().filter(user=request.user).first()
        if profile is None:
            raise exceptions.NotFound()
        context = describe([profile], self.get_serializer_context())
        jobs_serializer = READ_SERIALIZERS[audience(request.user)][0]
        return Response(
            {
                "engineer": EngineerSerializer(profile, context=context).data,
                "jobs": jobs_serializer(todays_jobs(request.user), many=True, context=context).data,
            }
        )

    @extend_schema(
        summary="Record where your phone is (engineers)",
        description="A repeated client_id returns the first ping with 200 (a retry is a no-op).",
        request=PositionInputSerializer,
        responses={201: PositionPingSerializer, **ok(PositionPingSerializer)},
    )
    @action(detail=False, methods=["post"], url_path="me/position", url_name="me-position")
    def position(self, request):
        payload = PositionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        client_id = data.get("client_id")
        if client_id is not None and (
            PositionPing.objects.filter(client_id=client_id).exclude(user=request.user).exists()
        ):
            # Client ids are unique across engineers: never answer with someone else's ping.
            raise ValidationFailed(fields={"client_id": [_("This id was already used.")]})
        replay = client_id is not None and (
            PositionPing.objects.filter(client_id=client_id, user=request.user).exists()
        )
        ping = services.record_position(actor=request.user, **data)
        return Response(PositionPingSerializer(ping).data, status=200 if replay else 201)


router = SimpleRouter()
router.register("engineers", EngineerViewSet, basename="engineer")
urlpatterns = router.urls
