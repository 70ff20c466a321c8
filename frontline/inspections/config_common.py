"""Helpers shared by the inspection configuration services (``config`` and ``sops``):
the permission check, locked re-reads through ``visible_to``, field validation, saving
with a duplicate message, and the audit entries."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from frontline.core import audit
from frontline.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
    from_django_validation,
)
from frontline.inspections import access

Errors = dict[str, list[str]]


def require_manager(actor) -> None:
    if not access.may_manage_routes(actor):
        raise PermissionDenied()


def add_error(errors: Errors, name: str, message) -> None:
    errors.setdefault(name, []).append(str(message))


def field_errors(instance: models.Model, exclude: Iterable[str] = ()) -> Errors:
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as exc:
        return from_django_validation(exc).fields
    return {}


def locked(model: type[models.Model], actor, pk):
    visible = model.objects.visible_to(actor).filter(pk=pk).values("pk")
    found = model.objects.select_for_update(of=("self",)).filter(pk__in=visible).first()
    if found is None:
        raise NotFound()
    return found


def visible(model: type[models.Model], actor, obj) -> bool:
    return obj is not None and model.objects.visible_to(actor).filter(pk=obj.pk).exists()


def reject_unknown(changes: dict, allowed: Iterable[str]) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationFailed(
            fields={n: [_("This field cannot be changed here.")] for n in unknown}
        )


def save_or_duplicate(instance: models.Model, duplicate: Errors) -> None:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationFailed(fields=duplicate)


def audit_created(actor, instance, fields) -> None:
    audit.record(
        actor=actor,
        instance=instance,
        action=audit.AuditAction.CREATE,
        changes=audit.snapshot(instance, list(fields)),
    )


def audit_updated(actor, instance, diff, verb: str = "") -> None:
    audit.record(
        actor=actor, instance=instance, action=audit.AuditAction.UPDATE, changes=diff, verb=verb
    )


def raise_errors(errors: Errors) -> None:
    if errors:
        raise ValidationFailed(fields=errors)
