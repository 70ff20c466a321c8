"""Verbs on SLA policies and business calendars (admins only, ``Cap.MANAGE_DESK_CONFIG``).

Pages and API change these records through the functions here and nowhere else. Each
checks the capability, re-reads the row under a lock, validates the whole result,
saves, writes one ``AuditEntry``, and after commit queues
``frontline.desk.tasks.recompute_policy_tickets`` for the open tickets whose
deadlines may move (those of the policy's project and severity, or of every policy
on a changed calendar).

A calendar's working periods and closed days are written with it in one payload: when
given, they replace the old ones. Periods are ``{"weekday", "start", "end"}`` (0 =
Monday) and may not overlap on one day; an end of 23:59 means "until midnight" (see
``desk.calendars``), so a night shift is 22:00–23:59 plus 00:00–06:00 the next day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from frontline import jobs
from frontline.accounts.roles import Cap
from frontline.core import audit
from frontline.core.deletion import erase
from frontline.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    from_django_validation,
)
from frontline.desk.models import BusinessCalendar, ClosedDay, SlaPolicy, WorkingPeriod
from frontline.desk.models.scoping import is_desk_staff
from frontline.desk.tasks import recompute_policy_tickets
from frontline.sites.models import Project

POLICY_FIELDS = (
    "project",
    "severity",
    "calendar",
    "first_response_minutes",
    "resolution_minutes",
    "warning_percent",
    "raise_tier_on_breach",
)
CALENDAR_FIELDS = ("name", "time_zone", "is_24x7", "use_china_holidays")

DUPLICATE_POLICY = _("This project already has a policy for this severity.")
DUPLICATE_CALENDAR = _("Another calendar already has this name.")
CALENDAR_IN_USE = _("SLA policies use this calendar, so it cannot be deleted.")

Errors = dict[str, list[str]]


def _require(actor) -> None:
    if not is_desk_staff(actor) or not actor.has_capability(Cap.MANAGE_DESK_CONFIG):
        raise PermissionDenied()


def _add(errors: Errors, name: str, message) -> None:
    errors.setdefault(name, []).append(str(message))


def _field_errors(instance: models.Model, exclude: Iterable[str] = ()) -> Errors:
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as exc:
        return from_django_validation(exc).fields
    return {}


def _locked(model: type[models.Model], actor, pk):
    visible = model.objects.visible_to(actor).filter(pk=pk).values("pk")
    try:
        return model.objects.select_for_update(no_key=True).get(pk__in=visible)
    except model.DoesNotExist:
        raise NotFound()


def _recompute_after_commit(scopes: Iterable[tuple[int, str]]) -> None:
    unique = sorted({(int(p), str(s)) for p, s in scopes})
    if unique:
        payload = [list(scope) for scope in unique]
        jobs.enqueue(recompute_policy_tickets, args=[payload])


# ---------------------------------------------------------------- policies


def _validate_policy(*, actor, policy: SlaPolicy) -> None:
    errors = _field_errors(policy, exclude=("project", "calendar"))
    if (
        not policy.project_id
        or not Project.objects.visible_to(actor).filter(pk=policy.project_id).exists()
    ):
        _add(errors, "project", _("No such project."))
    if not policy.calendar_id:
        _add(errors, "calendar", _("Choose a business calendar."))
    if (
        "first_response_minutes" not in errors
        and "resolution_minutes" not in errors
        and policy.resolution_minutes < policy.first_response_minutes
    ):
        _add(
            errors,
            "resolution_minutes",
            _("The resolution target cannot be shorter than the first-response target."),
        )
    if "project" not in errors and "severity" not in errors:
        same = SlaPolicy.objects.filter(project_id=policy.project_id, severity=policy.severity)
        if same.exclude(pk=policy.pk).exists():
            _add(errors, "severity", DUPLICATE_POLICY)
    if errors:
        raise ValidationFailed(fields=errors)


def _save(instance: models.Model, duplicate: Errors) -> None:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationFailed(fields=duplicate)


def create_policy(
    *,
    actor,
    project: Project,
    severity: str,
    calendar: BusinessCalendar,
    first_response_minutes: int,
    resolution_minutes: int,
    warning_percent: int = 80,
    raise_tier_on_breach: str = "",
) -> SlaPolicy:
    """Promise targets for one project and severity; open tickets of both pick it up."""
    _require(actor)
    with transaction.atomic():
        policy = SlaPolicy(
            project=project,
            severity=severity,
            calendar=calendar,
            first_response_minutes=first_response_minutes,
            resolution_minutes=resolution_minutes,
            warning_percent=warning_percent,
            raise_tier_on_breach=raise_tier_on_breach or "",
        )
        _validate_policy(actor=actor, policy=policy)
        _save(policy, {"severity": [str(DUPLICATE_POLICY)]})
        audit.record(
            actor=actor,
            instance=policy,
            action=audit.AuditAction.CREATE,
            changes=audit.snapshot(policy, list(POLICY_FIELDS)),
        )
        _recompute_after_commit([(policy.project_id, policy.severity)])
    return policy


def update_policy(*, actor, policy: SlaPolicy, **changes: Any) -> SlaPolicy:
    """Change targets, calendar, project or severity; affected open tickets are recomputed."""
    _require(actor)
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    if unknown:
        raise ValidationFailed(
            fields={n: [_("This field cannot be changed here.")] for n in unknown}
        )
    with transaction.atomic():
        policy = _locked(SlaPolicy, actor, policy.pk)
        before = (policy.project_id, policy.severity)
        if "raise_tier_on_breach" in changes:
            changes["raise_tier_on_breach"] = changes["raise_tier_on_breach"] or ""
        diff = audit.apply_changes(policy, changes)
        if diff:
            _validate_policy(actor=actor, policy=policy)
            _save(policy, {"severity": [str(DUPLICATE_POLICY)]})
            audit.record(
                actor=actor, instance=policy, action=audit.AuditAction.UPDATE, changes=diff
            )
            _recompute_after_commit([before, (policy.project_id, policy.severity)])
    return policy


def delete_policy(*, actor, policy: SlaPolicy) -> None:
    """Erase a policy; its open tickets fall back to "no SLA" (their pauses stay)."""
    _require(actor)
    with transaction.atomic():
        policy = _locked(SlaPolicy, actor, policy.pk)
        scope = (policy.project_id, policy.severity)
        erase(
            actor=actor,
            instance=policy,
            fields=POLICY_FIELDS,
            in_use_message=_("This policy is still in use."),
        )
        _recompute_after_commit([scope])


# ---------------------------------------------------------------- calendars


def _fmt(value: dt.time) -> str:
    return f"{value:%H:%M}"


def _clean_periods(raw: Iterable[Any], errors: Errors) -> list[tuple[int, dt.time, dt.time]]:
    out = []
    for item in raw:
        if isinstance(item, WorkingPeriod):
            item = {"weekday": item.weekday, "start": item.start, "end": item.end}
        weekday, start, end = item.get("weekday"), item.get("start"), item.get("end")
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            _add(errors, "periods", _("A weekday is a number from 0 (Monday) to 6 (Sunday)."))
            continue
        if not isinstance(start, dt.time) or not isinstance(end, dt.time):
            _add(errors, "periods", _("Give each period a start and an end time."))
            continue
        if end <= start:
            _add(
                errors,
                "periods",
                _("%(day)s: a period must end after it starts (%(start)s–%(end)s).")
                % {"day": WEEKDAYS[weekday], "start": _fmt(start), "end": _fmt(end)},
            )
            continue
        out.append((weekday, start, end))
    out.sort()
    for (w1, s1, e1), (w2, s2, e2) in zip(out, out[1:], strict=False):
        if w1 == w2 and s2 < e1:
            _add(
                errors,
                "periods",
                _("%(day)s: periods %(a)s and %(b)s overlap.")
                % {
                    "day": WEEKDAYS[w1],
                    "a": f"{_fmt(s1)}–{_fmt(e1)}",
                    "b": f"{_fmt(s2)}–{_fmt(e2)}",
                },
            )
    return out


def _clean_closed_days(raw: Iterable[Any], errors: Errors) -> list[tuple[dt.date, str]]:
    out: dict[dt.date, str] = {}
    for item in raw:
        if isinstance(item, ClosedDay):
            item = {"date": item.date, "reason": item.reason}
        day, reason = item.get("date"), (item.get("reason") or "").strip()[:200]
        if not isinstance(day, dt.date):
            _add(errors, "closed_days", _("Give each closed day a date."))
        elif day in out:
            _add(errors, "closed_days", _("%(date)s is listed twice.") % {"date": day.isoformat()})
        else:
            out[day] = reason
    return sorted(out.items())


def _validate_calendar(calendar: BusinessCalendar, periods, closed_days) -> tuple[list, list]:
    errors = _field_errors(calendar)
    calendar.name = calendar.name.strip()
    clean_periods = _clean_periods(periods, errors)
    clean_closed = _clean_closed_days(closed_days, errors)
    if not calendar.is_24x7 and not clean_periods and "periods" not in errors:
        _add(errors, "periods", _("Give at least one working period, or make the calendar 24×7."))
    if "name" not in errors:
        same = BusinessCalendar.objects.filter(name=calendar.name).exclude(pk=calendar.pk)
        if same.exists():
            _add(errors, "name", DUPLICATE_CALENDAR)
    if errors:
        raise ValidationFailed(fields=errors)
    return clean_periods, clean_closed


def _labels(periods, closed_days) -> dict[str, list[str]]:
    return {
        "periods": [f"{w} {_fmt(s)}–{_fmt(e)}" for w, s, e in periods],
        "closed_days": [d.isoformat() for d, _reason in closed_days],
    }


def _current_parts(calendar: BusinessCalendar) -> tuple[list, list]:
    periods = [(p.weekday, p.start, p.end) for p in calendar.periods.order_by("weekday", "start")]
    closed = [(c.date, c.reason) for c in calendar.closed_days.order_by("date")]
    return periods, closed


def _write_parts(calendar: BusinessCalendar, periods, closed_days) -> None:
    calendar.periods.all().delete()
    calendar.closed_days.all().delete()
    WorkingPeriod.objects.bulk_create(
        WorkingPeriod(calendar=calendar, weekday=w, start=s, end=e) for w, s, e in periods
    )
    ClosedDay.objects.bulk_create(
        ClosedDay(calendar=calendar, date=d, reason=r) for d, r in closed_days
    )


def create_calendar(
    *,
    actor,
    name: str,
    time_zone: str = "Asia/Shanghai",
    is_24x7: bool = False,
    use_china_holidays: bool = True,
    periods: Iterable[Any] = (),
    closed_days: Iterable[Any] = (),
) -> BusinessCalendar:
    """A calendar with its working periods and closed days, in one go."""
    _require(actor)
    with transaction.atomic():
        calendar = BusinessCalendar(
            name=name,
            time_zone=time_zone,
            is_24x7=is_24x7,
            use_china_holidays=use_china_holidays,
        )
        clean_periods, clean_closed = _validate_calendar(calendar, periods, closed_days)
        _save(calendar, {"name": [str(DUPLICATE_CALENDAR)]})
        _write_parts(calendar, clean_periods, clean_closed)
        changes = audit.snapshot(calendar, list(CALENDAR_FIELDS))
        changes |= {k: [None, v] for k, v in _labels(clean_periods, clean_closed).items()}
        audit.record(
            actor=actor, instance=calendar, action=audit.AuditAction.CREATE, changes=changes
        )
    return calendar


def update_calendar(*, actor, calendar: BusinessCalendar, **changes: Any) -> BusinessCalendar:
    """Change a calendar; ``periods`` / ``closed_days``, when given, replace the old ones."""
    _require(actor)
    allowed = {*CALENDAR_FIELDS, "periods", "closed_days"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed(
            fields={n: [_("This field cannot be changed here.")] for n in unknown}
        )
    with transaction.atomic():
        calendar = _locked(BusinessCalendar, actor, calendar.pk)
        old_periods, old_closed = _current_parts(calendar)
        periods = changes.pop("periods", None)
        closed_days = changes.pop("closed_days", None)
        diff = audit.apply_changes(calendar, changes)
        new_periods, new_closed = _validate_calendar(
            calendar,
            _period_dicts(old_periods) if periods is None else periods,
            [{"date": d, "reason": r} for d, r in old_closed]
            if closed_days is None
            else closed_days,
        )
        old_labels = _labels(old_periods, old_closed)
        new_labels = _labels(new_periods, new_closed)
        parts_diff = {
            k: [old_labels[k], new_labels[k]] for k in old_labels if old_labels[k] != new_labels[k]
        }
        reasons_changed = old_closed != new_closed
        if not diff and not parts_diff and not reasons_changed:
            return calendar
        if diff:
            _save(calendar, {"name": [str(DUPLICATE_CALENDAR)]})
        if parts_diff or reasons_changed:
            _write_parts(calendar, new_periods, new_closed)
        audit.record(
            actor=actor,
            instance=calendar,
            action=audit.AuditAction.UPDATE,
            changes=diff | parts_diff,
        )
        _recompute_after_commit(calendar.policies.values_list("project_id", "severity"))
    return calendar


def _period_dicts(periods) -> list[dict]:
    return [{"weekday": w, "start": s, "end": e} for w, s, e in periods]


def delete_calendar(*, actor, calendar: BusinessCalendar) -> None:
    """Erase a calendar no policy uses (else 409)."""
    _require(actor)
    with transaction.atomic():
        calendar = _locked(BusinessCalendar, actor, calendar.pk)
        if calendar.policies.exists():
            raise Conflict(CALENDAR_IN_USE, code="in_use")
        erase(
            actor=actor,
            instance=calendar,
            fields=CALENDAR_FIELDS,
            in_use_message=CALENDAR_IN_USE,
        )


__all__ = [
    "create_calendar",
    "create_policy",
    "delete_calendar",
    "delete_policy",
    "update_calendar",
    "update_policy",
]
