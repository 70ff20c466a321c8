"""API serializers for accounts. They validate shapes; services decide and write.

No serializer ever exposes a password hash or a token hash.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from frontline.accounts.models import (
    TIME_ZONES,
    ApiToken,
    LanguageChoice,
    Membership,
    Organization,
    Team,
    TokenScope,
    User,
)
from frontline.accounts.roles import Role
from frontline.core.api import ScopedPrimaryKeyRelatedField, StrictModelSerializer

# ---------------------------------------------------------------- organisations


class OrganizationSerializer(StrictModelSerializer):
    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "code",
            "kind",
            "phone",
            "email",
            "address",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        # Uniqueness is checked by the service (one error format, one place).
        extra_kwargs = {"code": {"validators": []}}


class OrganizationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "kind"]
        read_only_fields = fields


# ---------------------------------------------------------------- users


class UserSerializer(StrictModelSerializer):
    organization = serializers.IntegerField(
        source="organization_id",
        read_only=True,
        allow_null=True,
        help_text=_("The user's organisation."),
    )
    role = serializers.ChoiceField(choices=Role.choices, read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "phone",
            "preferred_language",
            "time_zone",
            "is_active",
            "organization",
            "role",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields


class UserCreateSerializer(StrictModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    role = serializers.ChoiceField(choices=Role.choices)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=128,
        style={"input_type": "password"},
        help_text=_("Leave out to let the person set a password through the reset link."),
    )
    time_zone = serializers.ChoiceField(choices=TIME_ZONES, required=False)

    class Meta:
        model = User
        fields = [
            "email",
            "display_name",
            "phone",
            "preferred_language",
            "time_zone",
            "organization",
            "role",
            "password",
        ]
        extra_kwargs = {"email": {"validators": []}}


class UserUpdateSerializer(StrictModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), required=False)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    time_zone = serializers.ChoiceField(choices=TIME_ZONES, required=False)
    is_staff = serializers.BooleanField(
        required=False, help_text=_("Only a superuser may change this.")
    )
    is_superuser = serializers.BooleanField(
        required=False, help_text=_("Only a superuser may change this.")
    )

    class Meta:
        model = User
        fields = [
            "email",
            "display_name",
            "phone",
            "preferred_language",
            "time_zone",
            "is_active",
            "organization",
            "role",
            "is_staff",
            "is_superuser",
        ]
        extra_kwargs = {"email": {"validators": []}}


# ---------------------------------------------------------------- memberships


class MembershipSerializer(StrictModelSerializer):
    user = ScopedPrimaryKeyRelatedField(queryset=User.objects.all())
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())

    class Meta:
        model = Membership
        fields = ["id", "user", "organization", "role", "created_at"]
        read_only_fields = ["id", "created_at"]


class MembershipUpdateSerializer(StrictModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), required=False)

    class Meta:
        model = Membership
        fields = ["organization", "role"]
        extra_kwargs = {"role": {"required": False}}


# ---------------------------------------------------------------- teams


class TeamSerializer(StrictModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    lead = ScopedPrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True, required=False
    )
    members = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)

    class Meta:
        model = Team
        fields = [
            "id",
            "organization",
            "name",
            "description",
            "lead",
            "members",
            "dispatch_mode",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        validators: list = []  # per-organisation name uniqueness is the service's job


class TeamUpdateSerializer(StrictModelSerializer):
    lead = ScopedPrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True, required=False
    )
    members = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)

    class Meta:
        model = Team
        fields = ["name", "description", "lead", "members", "dispatch_mode", "is_active"]
        validators: list = []


# ---------------------------------------------------------------- tokens


class ApiTokenSerializer(StrictModelSerializer):
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices), read_only=True
    )
    is_usable = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "is_usable",
        ]
        read_only_fields = fields


class ApiTokenCreateSerializer(StrictModelSerializer):
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices),
        min_length=1,
        max_length=len(TokenScope.values),
        required=False,
        help_text=_("Defaults to read and write."),
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=_("Defaults to 90 days from now; at most one year."),
    )

    class Meta:
        model = ApiToken
        fields = ["name", "scopes", "expires_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True,
        help_text=_("The token itself. It is shown only in this response; store it now."),
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


# ---------------------------------------------------------------- me


class MeSerializer(serializers.ModelSerializer):
    organization = OrganizationBriefSerializer(read_only=True, allow_null=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True, allow_null=True)
    capabilities = serializers.SerializerMethodField()
    preferred_language = serializers.ChoiceField(choices=LanguageChoice.choices, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "phone",
            "preferred_language",
            "time_zone",
            "organization",
            "role",
            "capabilities",
        ]
        read_only_fields = fields

    def get_capabilities(self, obj) -> list[str]:
        return sorted(obj.capabilities) if obj.is_active else []
