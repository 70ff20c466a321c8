"""Verbs on people and organisations. Every change is audited; nothing here is called from signals."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import User, validate_time_zone
from frontline.core import audit
from frontline.core.errors import PermissionDenied, ValidationFailed


def update_preferences(*, actor: User, user: User, **changes) -> User:
    """Change a user's own display name, phone, language or time zone."""
    allowed = {"display_name", "phone", "preferred_language", "time_zone"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be changed here.")] for name in unknown})
    if actor.pk != user.pk and not actor.has_capability("manage_users"):
        raise PermissionDenied()
    if "preferred_language" in changes and changes["preferred_language"] not in {"", *dict(settings.LANGUAGES)}:
        raise ValidationFailed(fields={"preferred_language": [_("Choose zh-hans or en.")]})
    if "time_zone" in changes:
        try:
            validate_time_zone(changes["time_zone"])
        except Exception as exc:  # noqa: BLE001
            raise ValidationFailed(fields={"time_zone": list(getattr(exc, "messages", [str(exc)]))})
    if "display_name" in changes and not str(changes["display_name"]).strip():
        raise ValidationFailed(fields={"display_name": [_("A display name is required.")]})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        diff = audit.apply_changes(locked, changes)
        if diff:
            locked.save(update_fields=[*diff])
            audit.record(actor=actor, instance=locked, action=audit.AuditAction.UPDATE, changes=diff)
    for name in diff:
        setattr(user, name, getattr(locked, name))
    return user
