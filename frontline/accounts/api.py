"""API for organisations, people, memberships, teams, API tokens and the caller (``/me/``).

Reads go through ``visible_to(user)`` (the base viewset); writes through the services,
after the same predicates the pages use (``frontline.accounts.access``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.decorators import action
from rest_framework.response import Response

from frontline.accounts import access, services, tokens
from frontline.accounts.filters import (
    ApiTokenFilter,
    MembershipFilter,
    OrganizationFilter,
    TeamFilter,
    UserFilter,
)
from frontline.accounts.models import ApiToken, Membership, Organization, Team, User
from frontline.accounts.roles import Cap
from frontline.accounts.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    MeSerializer,
    OrganizationSerializer,
    TeamSerializer,
    TeamUpdateSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from frontline.core.api import DESTROY_RESPONSES, ScopedModelViewSet


class ServiceViewSet(ScopedModelViewSet):
    """Create and partial update validated by a serializer, carried out by a service.

    The response always uses ``serializer_class`` (the read shape), read back through
    the scoped queryset so it carries exactly what a GET would.
    """

    http_method_names = ["get", "post", "patch", "head", "options"]
    create_serializer_class: type | None = None
    update_serializer_class: type | None = None

    def get_serializer_class(self):
        if self.action == "create" and self.create_serializer_class is not None:
            return self.create_serializer_class
        if self.action == "partial_update" and self.update_serializer_class is not None:
            return self.update_serializer_class
        return self.serializer_class

    def respond(self, obj, *, serializer_class=None, status_code=status.HTTP_200_OK, **extra):
        fresh = self.get_queryset().filter(pk=obj.pk).first() or obj
        for name, value in extra.items():
            setattr(fresh, name, value)
        serializer = (serializer_class or self.serializer_class)(
            fresh, context=self.get_serializer_context()
        )
        return Response(serializer.data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self.service_create(dict(serializer.validated_data))
        return self.respond(obj, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        obj = self.service_update(instance, dict(serializer.validated_data))
        return self.respond(obj)

    def perform_destroy(self, instance):
        self.service_destroy(instance)

    def service_create(self, data: dict):  # pragma: no cover - abstract
        raise NotImplementedError

    def service_destroy(self, instance):  # pragma: no cover - abstract (only with "delete")
        raise NotImplementedError

    def service_update(self, instance, data: dict):  # pragma: no cover - abstract
        raise NotImplementedError


DELETABLE_METHODS = ["get", "post", "patch", "delete", "head", "options"]


def _write_schema(create_request, update_request, read, *, destroy_summary=""):
    schema = {
        "create": extend_schema(request=create_request, responses={201: read}),
        "partial_update": extend_schema(request=update_request, responses=read),
    }
    if destroy_summary:
        schema["destroy"] = extend_schema(summary=destroy_summary, responses=DESTROY_RESPONSES)
    return schema


@extend_schema_view(
    **_write_schema(
        OrganizationSerializer,
        OrganizationSerializer,
        OrganizationSerializer,
        destroy_summary=(
            "Delete an organisation without people, teams, sites or projects "
            "(operator admins; never the operator; else 409)"
        ),
    )
)
class OrganizationViewSet(ServiceViewSet):
    """Companies: the operator, its customers, partner outlets and suppliers."""

    http_method_names = DELETABLE_METHODS
    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    search_fields = ["name", "code"]
    ordering_fields = ["id", "name", "code", "kind", "created_at"]
    write_capability = Cap.MANAGE_ORGANIZATIONS

    def service_create(self, data):
        return services.create_organization(actor=self.request.user, **data)

    def service_update(self, instance, data):
        return services.update_organization(actor=self.request.user, organization=instance, **data)

    def service_destroy(self, instance):
        services.delete_organization(actor=self.request.user, organization=instance)


@extend_schema_view(**_write_schema(UserCreateSerializer, UserUpdateSerializer, UserSerializer))
class UserViewSet(ServiceViewSet):
    """People. Administrators create and change them within their role ceiling."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    create_serializer_class = UserCreateSerializer
    update_serializer_class = UserUpdateSerializer
    filterset_class = UserFilter
    search_fields = ["display_name", "email"]
    ordering_fields = ["id", "display_name", "email", "date_joined"]
    write_capability = Cap.MANAGE_USERS

    def can_write(self, obj=None) -> bool:
        if obj is None:
            return super().can_write(None)
        return access.may_manage_users_in(self.request.user, obj.organization_id)

    def service_create(self, data):
        data["password"] = data.get("password") or None
        return services.create_user(actor=self.request.user, **data)

    def service_update(self, instance, data):
        return services.update_user(actor=self.request.user, user=instance, **data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Stop this person from signing in; their history stays."""
        user = self.get_object()
        return self.respond(services.deactivate_user(actor=request.user, user=user))


@extend_schema_view(
    **_write_schema(
        MembershipSerializer,
        MembershipUpdateSerializer,
        MembershipSerializer,
        destroy_summary="Take a person out of their organisation (operator admins; never oneself)",
    )
)
class MembershipViewSet(ServiceViewSet):
    """A person's place and role in an organisation."""

    http_method_names = DELETABLE_METHODS
    queryset = Membership.objects.all()
    serializer_class = MembershipSerializer
    update_serializer_class = MembershipUpdateSerializer
    filterset_class = MembershipFilter
    ordering_fields = ["id", "role", "created_at"]
    write_capability = Cap.MANAGE_USERS

    def can_write(self, obj=None) -> bool:
        if obj is None:
            return super().can_write(None)
        return access.may_manage_users_in(self.request.user, obj.organization_id)

    def service_create(self, data):
        return services.create_membership(actor=self.request.user, **data)

    def service_update(self, instance, data):
        return services.update_membership(actor=self.request.user, membership=instance, **data)

    def service_destroy(self, instance):
        services.delete_membership(actor=self.request.user, membership=instance)


@extend_schema_view(
    **_write_schema(
        TeamSerializer,
        TeamUpdateSerializer,
        TeamSerializer,
        destroy_summary="Disband a team (its members keep their accounts)",
    )
)
class TeamViewSet(ServiceViewSet):
    """Teams that share a queue, with the way field work reaches them."""

    http_method_names = DELETABLE_METHODS
    queryset = Team.objects.prefetch_related("members")
    serializer_class = TeamSerializer
    update_serializer_class = TeamUpdateSerializer
    filterset_class = TeamFilter
    search_fields = ["name", "description"]
    ordering_fields = ["id", "name", "dispatch_mode", "created_at"]
    write_capability = Cap.MANAGE_TEAMS

    def can_write(self, obj=None) -> bool:
        if obj is None:
            return super().can_write(None)
        return access.may_manage_teams_of(self.request.user, obj.organization_id)

    def service_create(self, data):
        return services.create_team(actor=self.request.user, **data)

    def service_update(self, instance, data):
        return services.update_team(actor=self.request.user, team=instance, **data)

    def service_destroy(self, instance):
        services.delete_team(actor=self.request.user, team=instance)


@extend_schema_view(
    create=extend_schema(
        request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer}
    ),
)
class ApiTokenViewSet(ServiceViewSet):
    """The caller's own API tokens. The token itself appears once, in the create response."""

    http_method_names = ["get", "post", "head", "options"]
    queryset = ApiToken.objects.all()
    serializer_class = ApiTokenSerializer
    create_serializer_class = ApiTokenCreateSerializer
    filterset_class = ApiTokenFilter
    ordering_fields = ["id", "name", "created_at", "expires_at"]
    write_capability = Cap.USE_API_TOKENS

    def can_write(self, obj=None) -> bool:
        if obj is None and isinstance(self.request.auth, ApiToken):
            # A token cannot mint tokens: a leaked token must not outlive its revocation.
            return False
        return super().can_write(obj)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "scopes" not in data:
            data["scopes"] = tokens.DEFAULT_SCOPES
        token, raw = tokens.create_token(actor=request.user, user=request.user, **data)
        return self.respond(
            token,
            serializer_class=ApiTokenCreatedSerializer,
            status_code=status.HTTP_201_CREATED,
            token=raw,
        )

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke this token at once; revoking twice is harmless."""
        token = self.get_object()
        return self.respond(tokens.revoke_token(actor=request.user, token=token))


class MeView(generics.GenericAPIView):
    """The caller: who they are, their organisation, role and capabilities."""

    serializer_class = MeSerializer
    pagination_class = None
    filter_backends: list = []

    def get(self, request, *args, **kwargs):
        return Response(MeSerializer(request.user, context=self.get_serializer_context()).data)
