"""API for dispatch rules: thin viewset over ``field.rule_services`` and ``field.rules``.

Field staff read the rules and ask for a preview ("which rule would take this work
order, and why"); only those with ``Cap.MANAGE_DISPATCH_RULES`` write (else 403, and
nothing changes); anyone else sees nothing (a 404 for one rule).
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from frontline.accounts.models import Organization, Skill, Team, User
from frontline.accounts.roles import Cap
from frontline.core.api import (
    DESTROY_RESPONSES,
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
)
from frontline.core.filters import BooleanFilter
from frontline.field import access, rule_services, rules
from frontline.field.models import DispatchRule, WorkOrder
from frontline.field.states import RuleMode
from frontline.sites.models import AssetModel, Project, Site


class DispatchRuleSerializer(StrictModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    project = ScopedPrimaryKeyRelatedField(
        queryset=Project.objects.all(), required=False, allow_null=True
    )
    site = ScopedPrimaryKeyRelatedField(
        queryset=Site.objects.all(), required=False, allow_null=True
    )
    asset_model = ScopedPrimaryKeyRelatedField(
        queryset=AssetModel.objects.all(), required=False, allow_null=True
    )
    skill = ScopedPrimaryKeyRelatedField(
        queryset=Skill.objects.all(), required=False, allow_null=True
    )
    team = ScopedPrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    partner = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    engineers = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)

    class Meta:
        model = DispatchRule
        fields = [
            "id",
            "name",
            "position",
            "is_active",
            "customer",
            "project",
            "site",
            "region",
            "asset_model",
            "skill",
            "channel",
            "priority",
            "team",
            "partner",
            "engineers",
            "mode",
            "updated_at",
        ]
        read_only_fields = ["id", "position", "updated_at"]


class PreviewRequestSerializer(serializers.Serializer):
    work_order = ScopedPrimaryKeyRelatedField(queryset=WorkOrder.objects.all())


class MoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=[("up", _("Up")), ("down", _("Down"))])


class ReorderSerializer(serializers.Serializer):
    rules = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)


class DispatchRuleFilter(FilterSet):
    is_active = BooleanFilter(label=_("Active"))
    mode = django_filters.ChoiceFilter(choices=RuleMode.choices, label=_("Mode"))

    class Meta:
        model = DispatchRule
        fields = ["is_active", "mode"]


@extend_schema_view(
    list=extend_schema(summary="List the dispatch rules in the order they are tried"),
    create=extend_schema(summary="Add a dispatch rule at the end (admins)"),
    partial_update=extend_schema(summary="Change a dispatch rule (admins)"),
    destroy=extend_schema(summary="Delete a dispatch rule (admins)", responses=DESTROY_RESPONSES),
)
class DispatchRuleViewSet(ScopedModelViewSet):
    queryset = DispatchRule.objects.select_related(*rules.RULE_RELATED).prefetch_related(
        "engineers"
    )
    serializer_class = DispatchRuleSerializer
    filterset_class = DispatchRuleFilter
    write_capability = Cap.MANAGE_DISPATCH_RULES
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering = ["position", "id"]
    ordering_fields = ["position", "name", "updated_at"]
    search_fields = ["name"]

    def check_permissions(self, request):
        # A preview changes nothing: whoever may see the rules may ask for one.
        if self.action == "preview":
            super(ScopedModelViewSet, self).check_permissions(request)
            if not access.is_field_staff(request.user):
                raise exceptions.NotFound()
            return
        super().check_permissions(request)

    def perform_create(self, serializer):
        serializer.instance = rule_services.create_rule(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = rule_services.update_rule(
            actor=self.request.user, rule=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        rule_services.delete_rule(actor=self.request.user, rule=instance)

    @extend_schema(
        summary="Which rule would take this work order, and why (changes nothing)",
        request=PreviewRequestSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        payload = PreviewRequestSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        order = rules.load_order(payload.validated_data["work_order"].pk)
        return Response(rules.preview(order).as_dict())

    @extend_schema(
        summary="Move a rule one place up or down (admins)",
        request=MoveSerializer,
        responses={200: DispatchRuleSerializer},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        rule = self.get_object()
        payload = MoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rule = rule_services.move_rule(
            actor=request.user, rule=rule, direction=payload.validated_data["direction"]
        )
        return Response(self.get_serializer(rule).data)

    @extend_schema(
        summary="Put every rule in the given order (admins)",
        request=ReorderSerializer,
        responses={200: DispatchRuleSerializer(many=True)},
    )
    @action(detail=False, methods=["post"], pagination_class=None)  # every rule, a plain list
    def reorder(self, request):
        payload = ReorderSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rule_services.reorder_rules(actor=request.user, rule_ids=payload.validated_data["rules"])
        ordered = self.get_queryset().order_by("position", "id")
        return Response(self.get_serializer(ordered, many=True).data, status=status.HTTP_200_OK)


router = SimpleRouter()
router.register("dispatch-rules", DispatchRuleViewSet, basename="dispatch-rule")
urlpatterns = router.urls
