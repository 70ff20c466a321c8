"""Django admin for superusers. Changes made here are audited like any other.

API tokens are read-only here (create them with ``frontline token create`` or the
API); their hash is never shown.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from frontline.accounts import tokens
from frontline.accounts.models import (
    ApiToken,
    EngineerSkill,
    Membership,
    Organization,
    Skill,
    Team,
    User,
)
from frontline.core import audit
from frontline.core.errors import DomainError


class AuditedAdminMixin:
    """Record an audit entry for every admin save (the admin does not go through services)."""

    def save_model(self, request, obj, form, change):
        creating = obj.pk is None
        super().save_model(request, obj, form, change)
        changed = [
            name for name in form.changed_data if name not in {"password", "password1", "password2"}
        ]
        audit.record(
            actor=request.user,
            instance=obj,
            action=audit.AuditAction.CREATE if creating else audit.AuditAction.UPDATE,
            verb="admin",
            changes={name: [None, str(form.cleaned_data.get(name))] for name in changed},
        )


class MembershipInline(admin.StackedInline):
    model = Membership
    can_delete = False
    extra = 0
    max_num = 1
    autocomplete_fields = ("organization",)


class EngineerSkillInline(admin.TabularInline):
    model = EngineerSkill
    extra = 0
    autocomplete_fields = ("skill",)


class EmailUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "display_name")


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ("display_name", "email")
    list_display = (
        "email",
        "display_name",
        "organization_name",
        "role_name",
        "is_active",
        "is_staff",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "membership__organization__kind")
    search_fields = ("email", "display_name", "phone")
    readonly_fields = ("last_login", "date_joined")
    inlines = (MembershipInline, EngineerSkillInline)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("display_name", "phone", "preferred_language", "time_zone")}),
        (
            _("Access"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "display_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_inlines(self, request, obj):
        # The add form asks only for the login; membership and skills come after.
        return self.inlines if obj is not None else ()

    @admin.display(description=_("organization"), ordering="membership__organization__name")
    def organization_name(self, obj):
        return obj.organization or "—"

    @admin.display(description=_("role"), ordering="membership__role")
    def role_name(self, obj):
        return obj.membership.get_role_display() if obj.role else "—"


@admin.register(Organization)
class OrganizationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "kind", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization__kind")
    search_fields = ("user__email", "user__display_name", "organization__name")
    list_select_related = ("user", "organization")
    autocomplete_fields = ("user", "organization")


@admin.register(Team)
class TeamAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "organization", "lead", "dispatch_mode", "is_active")
    list_filter = ("dispatch_mode", "is_active", "organization__kind")
    search_fields = ("name", "description")
    list_select_related = ("organization", "lead")
    autocomplete_fields = ("organization", "lead", "members")


@admin.register(Skill)
class SkillAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


@admin.register(EngineerSkill)
class EngineerSkillAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "skill", "level")
    list_filter = ("skill", "level")
    search_fields = ("user__email", "user__display_name", "skill__name")
    list_select_related = ("user", "skill")
    autocomplete_fields = ("user", "skill")


class ApiTokenAdminForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name", "scopes", "expires_at", "revoked_at")  # never key_hash


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenAdminForm
    list_display = (
        "name",
        "masked",
        "user",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "prefix", "user__email")
    list_select_related = ("user",)
    fields = (
        "user",
        "name",
        "masked",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = fields
    actions = ("revoke_selected",)

    @admin.display(description=_("token"))
    def masked(self, obj):
        return f"fl_{obj.prefix}_…"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["view"])
    def revoke_selected(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                tokens.revoke_token(actor=request.user, token=token)
            except DomainError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)
                return
            count += 1
        self.message_user(
            request, _("%(count)d tokens revoked.") % {"count": count}, messages.SUCCESS
        )
