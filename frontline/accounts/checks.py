"""Input checks shared by the people verbs in ``frontline.accounts.services``.

The role ceiling, profile fields and email addresses: each raises a domain error
(403 or 400) and changes nothing, so the verbs can call them before or inside their
transactions.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from frontline.accounts import access
from frontline.accounts.models import Organization, User, validate_time_zone
from frontline.accounts.roles import Role, role_fits_kind
from frontline.core.errors import PermissionDenied, ValidationFailed


def check_grant(actor: User, organization: Organization, role: str) -> None:
    """The role ceiling: the actor may give ``role`` in ``organization``, and it fits the kind."""
    if not access.may_manage_users_in(actor, organization.pk):
        raise PermissionDenied(_("You can only manage people in your own organisation."))
    if not access.may_grant(actor, organization.pk, role):
        raise PermissionDenied(_("You cannot give this role."))
    if role not in Role.values or not role_fits_kind(role, organization.kind):
        raise ValidationFailed(
            fields={
                "role": [
                    _("This role does not exist in a %(kind)s organisation.")
                    % {"kind": organization.get_kind_display()}
                ]
            }
        )


def validate_profile(changes: dict[str, Any]) -> None:
    """Language, time zone and display name (stripped in place) of a profile change."""
    if "preferred_language" in changes and changes["preferred_language"] not in {
        "",
        *dict(settings.LANGUAGES),
    }:
        raise ValidationFailed(fields={"preferred_language": [_("Choose zh-hans or en.")]})
    if "time_zone" in changes:
        try:
            validate_time_zone(str(changes["time_zone"]))
        except DjangoValidationError as exc:
            raise ValidationFailed(fields={"time_zone": list(exc.messages)})
    if "display_name" in changes:
        changes["display_name"] = str(changes["display_name"]).strip()
        if not changes["display_name"]:
            raise ValidationFailed(fields={"display_name": [_("A display name is required.")]})


def normalise_email(email: str, *, exclude_pk: int | None = None) -> str:
    """The address in lower case, valid and not used by anyone else (ignoring case)."""
    email = User.objects.normalize_email(str(email or "").strip()).lower()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed(fields={"email": list(exc.messages)})
    clash = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationFailed(
            fields={"email": [_("A user with this email address already exists.")]}
        )
    return email
