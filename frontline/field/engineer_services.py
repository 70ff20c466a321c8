"""Engineer records: profile, skills, certifications, shifts and leave.

Every change goes through one of these functions (pages, API, imports), inside a
transaction, audited with ``frontline.core.audit``. Only staff who manage engineers
(``Cap.MANAGE_ENGINEERS``) may call them; the engineer must be someone they can see.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import EngineerSkill, Skill, User
from frontline.accounts.roles import Cap
from frontline.core import audit
from frontline.core.errors import Conflict, NotFound, ValidationFailed
from frontline.core.locks import lock
from frontline.field import access
from frontline.field.models import Certification, EngineerProfile, Leave, Shift

PROFILE_FIELDS = (
    "phone",
    "region",
    "home_latitude",
    "home_longitude",
    "workday_start",
    "workday_end",
    "works_weekends",
    "daily_capacity_minutes",
    "offer_radius_km",
    "is_active",
)
MAX_LEAVE_DAYS = 366


def _add(errors: dict, field: str, message) -> None:
    errors.setdefault(field, []).append(message)


def _allowed(actor) -> None:
    access.require(access.may_manage_engineers(actor))


def _engineer(actor, user) -> User:
    """The engineer, if the actor can see them (else 404, as for any hidden record)."""
    if not isinstance(user, User) or not User.objects.visible_to(actor).filter(pk=user.pk).exists():
        raise NotFound()
    return user


def _decimal(value, low, high, field, errors):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        _add(errors, field, _("Give a number."))
        return None
    if not number.is_finite() or not low <= number <= high:
        _add(errors, field, _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high})
        return None
    return number.quantize(Decimal("0.000001"))


def _integer(value, low, high, field, errors):
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        _add(errors, field, _("Between %(low)d and %(high)d.") % {"low": low, "high": high})
    return number


def _clean_profile(values: dict) -> dict:
    """Check and normalise profile fields; raise ValidationFailed naming each bad field."""
    errors: dict = {}
    out = dict(values)
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    if "home_latitude" in values:
        out["home_latitude"] = _decimal(values["home_latitude"], -90, 90, "home_latitude", errors)
    if "home_longitude" in values:
        out["home_longitude"] = _decimal(
            values["home_longitude"], -180, 180, "home_longitude", errors
        )
    if "daily_capacity_minutes" in values:
        out["daily_capacity_minutes"] = _integer(
            values["daily_capacity_minutes"], 30, 24 * 60, "daily_capacity_minutes", errors
        )
    if "offer_radius_km" in values:
        out["offer_radius_km"] = _integer(
            values["offer_radius_km"], 1, 2000, "offer_radius_km", errors
        )
    for name, limit in (("phone", 40), ("region", 100)):
        if name in values:
            out[name] = str(values[name] or "").strip()
            if len(out[name]) > limit:
                _add(errors, name, _("At most %(n)d characters.") % {"n": limit})
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _check_workday(start, end) -> None:
    if start is None or end is None:
        raise ValidationFailed(fields={"workday_end": [_("Give both ends of the working day.")]})
    if end <= start:
        raise ValidationFailed(
            fields={"workday_end": [_("The working day must end after it starts.")]}
        )


def create_profile(*, actor, user, home_latitude, home_longitude, **fields) -> EngineerProfile:
    """Make someone dispatchable: a profile for a person who does field work."""
    _allowed(actor)
    _engineer(actor, user)
    if not user.is_active or not user.has_capability(Cap.DO_FIELD_WORK):
        raise ValidationFailed(fields={"user": [_("This person's role does no field work.")]})
    values = _clean_profile(
        {"home_latitude": home_latitude, "home_longitude": home_longitude, **fields}
    )
    profile = EngineerProfile(user=user, **values)
    _check_workday(profile.workday_start, profile.workday_end)
    with transaction.atomic():
        if EngineerProfile.objects.filter(user=user).exists():
            raise Conflict(_("This engineer already has a profile."), code="exists")
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError:
            raise Conflict(_("This engineer already has a profile."), code="exists")
        audit.record(actor=actor, instance=profile, action=audit.AuditAction.CREATE,
                     changes=audit.snapshot(profile, list(PROFILE_FIELDS)))  # fmt: skip
    return profile


def update_profile(*, actor, profile, **changes) -> EngineerProfile:
    """Change profile fields; only what changed is audited."""
    _allowed(actor)
    _engineer(actor, profile.user)
    values = _clean_profile(changes)
    with transaction.atomic():
        current = lock(EngineerProfile, profile.pk)
        diff = audit.apply_changes(current, values)
        _check_workday(current.workday_start, current.workday_end)
        if diff:
            current.save(update_fields=list(diff))
            audit.record(actor=actor, instance=current, action=audit.AuditAction.UPDATE,
                         changes=diff)  # fmt: skip
    return current


def set_skill(*, actor, user, skill, level) -> EngineerSkill | None:
    """Give an engineer a skill at a level (1–5); level 0 or None takes it away."""
    _allowed(actor)
    _engineer(actor, user)
    if not isinstance(skill, Skill):
        raise ValidationFailed(fields={"skill": [_("No such skill.")]})
    errors: dict = {}
    level = 0 if level in (None, "", 0, "0") else _integer(level, 1, 5, "level", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        current = EngineerSkill.objects.filter(user=user, skill=skill).first()
        old = current.level if current else None
        if not level:
            if current is not None:
                current.delete()
                audit.record(actor=actor, instance=user, action=audit.AuditAction.UPDATE,
                             verb="skill", changes={str(skill): [old, None]})  # fmt: skip
            return None
        row, _created = EngineerSkill.objects.update_or_create(
            user=user, skill=skill, defaults={"level": level}
        )
        if old != level:
            audit.record(actor=actor, instance=user, action=audit.AuditAction.UPDATE,
                         verb="skill", changes={str(skill): [old, level]})  # fmt: skip
    return row


def add_certification(
    *, actor, user, skill, name, number="", issued_on=None, expires_on=None
) -> Certification:
    """Record a certificate. One that has already expired may be recorded (history), but
    while no valid one exists a skill that needs certification is suspended."""
    _allowed(actor)
    _engineer(actor, user)
    errors: dict = {}
    name = " ".join(str(name or "").split())
    number = str(number or "").strip()
    if not isinstance(skill, Skill):
        _add(errors, "skill", _("No such skill."))
    if not name:
        _add(errors, "name", _("Name the certificate."))
    elif len(name) > 120:
        _add(errors, "name", _("At most %(n)d characters.") % {"n": 120})
    if len(number) > 60:
        _add(errors, "number", _("At most %(n)d characters.") % {"n": 60})
    for field, value in (("issued_on", issued_on), ("expires_on", expires_on)):
        if value is not None and not isinstance(value, dt.date):
            _add(errors, field, _("Give a date."))
    if (
        isinstance(issued_on, dt.date)
        and isinstance(expires_on, dt.date)
        and expires_on < issued_on
    ):
        _add(errors, "expires_on", _("A certificate cannot expire before it was issued."))
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        cert = Certification.objects.create(
            user=user, skill=skill, name=name, number=number,
            issued_on=issued_on, expires_on=expires_on,
        )  # fmt: skip
        audit.record(actor=actor, instance=cert, action=audit.AuditAction.CREATE,
                     changes=audit.snapshot(cert, ["user", "skill", "name", "number",
                                                   "issued_on", "expires_on"]))  # fmt: skip
    return cert


def remove_certification(*, actor, certification) -> None:
    _allowed(actor)
    _engineer(actor, certification.user)
    with transaction.atomic():
        cert = Certification.objects.select_for_update().filter(pk=certification.pk).first()
        if cert is None:
            raise NotFound()
        expires = cert.expires_on.isoformat() if cert.expires_on else None
        changes = {"name": [cert.name, None], "expires_on": [expires, None]}
        audit.record(actor=actor, instance=cert, action=audit.AuditAction.DELETE, changes=changes)
        cert.delete()


def set_shift(*, actor, user, date, start, end) -> Shift:
    """The working period on ``date``, replacing the regular day (one shift per day)."""
    _allowed(actor)
    _engineer(actor, user)
    errors: dict = {}
    if not isinstance(date, dt.date):
        _add(errors, "date", _("Give a date."))
    if not isinstance(start, dt.time):
        _add(errors, "start", _("Give a time."))
    if not isinstance(end, dt.time):
        _add(errors, "end", _("Give a time."))
    elif isinstance(start, dt.time) and end <= start:
        _add(errors, "end", _("The shift must end after it starts."))
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        old = Shift.objects.select_for_update().filter(user=user, date=date).first()
        before = [old.start.isoformat(), old.end.isoformat()] if old else None
        shift, _created = Shift.objects.update_or_create(
            user=user, date=date, defaults={"start": start, "end": end}
        )
        audit.record(actor=actor, instance=shift, action=audit.AuditAction.UPDATE, verb="shift",
                     changes={"hours": [before, [start.isoformat(), end.isoformat()]]})  # fmt: skip
    return shift


def clear_shift(*, actor, shift) -> None:
    """Back to the regular working day on that date."""
    _allowed(actor)
    _engineer(actor, shift.user)
    with transaction.atomic():
        audit.record(actor=actor, instance=shift, action=audit.AuditAction.DELETE,
                     changes={"date": [shift.date.isoformat(), None]})  # fmt: skip
        Shift.objects.filter(pk=shift.pk).delete()


def add_leave(*, actor, user, first_day, last_day, reason="") -> Leave:
    """Days away (inclusive). Leave may not overlap leave already entered."""
    _allowed(actor)
    _engineer(actor, user)
    errors: dict = {}
    reason = str(reason or "").strip()
    if not isinstance(first_day, dt.date):
        _add(errors, "first_day", _("Give a date."))
    if not isinstance(last_day, dt.date):
        _add(errors, "last_day", _("Give a date."))
    elif isinstance(first_day, dt.date):
        if last_day < first_day:
            _add(errors, "last_day", _("Leave cannot end before it starts."))
        elif (last_day - first_day).days >= MAX_LEAVE_DAYS:
            _add(errors, "last_day", _("At most %(n)d days at once.") % {"n": MAX_LEAVE_DAYS})
    if len(reason) > 200:
        _add(errors, "reason", _("At most %(n)d characters.") % {"n": 200})
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        # The engineer's row serialises leave entries for one person (no overlap by race).
        lock(User, user.pk)
        clash = Leave.objects.filter(
            user=user, first_day__lte=last_day, last_day__gte=first_day
        ).first()
        if clash is not None:
            raise ValidationFailed(
                fields={
                    "first_day": [
                        _("This overlaps leave already entered (%(first)s – %(last)s).")
                        % {"first": clash.first_day, "last": clash.last_day}
                    ]
                },
                code="leave_overlaps",
            )
        leave = Leave.objects.create(
            user=user, first_day=first_day, last_day=last_day, reason=reason
        )
        audit.record(actor=actor, instance=leave, action=audit.AuditAction.CREATE,
                     changes=audit.snapshot(leave, ["first_day", "last_day", "reason"]))  # fmt: skip
    return leave


def cancel_leave(*, actor, leave) -> None:
    _allowed(actor)
    _engineer(actor, leave.user)
    with transaction.atomic():
        audit.record(actor=actor, instance=leave, action=audit.AuditAction.DELETE,
                     changes={"days": [[leave.first_day.isoformat(),
                                        leave.last_day.isoformat()], None]})  # fmt: skip
        Leave.objects.filter(pk=leave.pk).delete()


__all__ = [
    "add_certification",
    "add_leave",
    "cancel_leave",
    "clear_shift",
    "create_profile",
    "remove_certification",
    "set_shift",
    "set_skill",
    "update_profile",
]
