"""Verbs on inspection configuration: routes, checkpoints, check items, schedules,
quality schemes and SOP versions (``Cap.MANAGE_ROUTES``: admins and managers).

Pages, API, the Excel import and the demo data change these records here and nowhere
else. Each function is keyword-only, runs inside ``transaction.atomic()``, re-reads the
row it changes under a lock through ``visible_to(actor)`` (another customer's record is
a 404), validates the whole result with field errors, saves, and writes one
``AuditEntry``. An update that changes nothing writes nothing, so re-importing the same
spreadsheet is a no-op.

A checkpoint or check item that rounds already recorded against is retired
(``is_active=False``) instead of erased; its history stays readable.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Team
from frontline.core import audit
from frontline.core.deletion import erase
from frontline.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
    from_django_validation,
)
from frontline.core.richtext import sanitize
from frontline.inspections import access
from frontline.inspections.models import (
    Anomaly,
    CheckItem,
    Checkpoint,
    PointVisit,
    QualityScheme,
    Reading,
    Route,
    Schedule,
    Sop,
    SopKpi,
    SopVersion,
)
from frontline.inspections.states import ItemKind, KpiKind, KpiMetric, ScheduleKind
from frontline.sites.models import Asset, Project, Site

Errors = dict[str, list[str]]

ROUTE_FIELDS = ("project", "site", "code", "name", "description", "expected_minutes",
                "sop_version", "quality_scheme", "anomaly_action", "anomaly_priority",
                "anomaly_team", "is_active")  # fmt: skip
CHECKPOINT_FIELDS = ("code", "name", "location", "asset", "is_active")
ITEM_FIELDS = ("name", "kind", "unit", "normal_min", "normal_max", "choices",
               "abnormal_choices", "normal_answer", "anomaly_when_abnormal", "photo_required",
               "required", "is_active")  # fmt: skip
SCHEDULE_FIELDS = ("kind", "times", "weekdays", "every_hours", "window_minutes", "team",
                   "engineer", "offer_for_grab", "starts_on", "ends_on", "is_active")  # fmt: skip
SCHEME_FIELDS = ("name", "coverage_weight", "timeliness_weight", "anomalies_weight",
                 "pace_weight", "photos_weight", "min_seconds_per_point", "standard")  # fmt: skip
SOP_FIELDS = ("code", "title", "work_order_type", "is_active")

DUPLICATE_ROUTE = _("This project already has a route with this code.")
DUPLICATE_CHECKPOINT = _("This route already has a checkpoint with this code.")
DUPLICATE_ITEM = _("This checkpoint already has an item with this name.")
NO_SUCH = _("No such object.")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_CHOICES = 30
MAX_KPIS = 20


# ---------------------------------------------------------------- helpers


def _require(actor) -> None:
    if not access.may_manage_routes(actor):
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
    found = model.objects.select_for_update(of=("self",)).filter(pk__in=visible).first()
    if found is None:
        raise NotFound()
    return found


def _visible(model: type[models.Model], actor, obj) -> bool:
    return obj is not None and model.objects.visible_to(actor).filter(pk=obj.pk).exists()


def _reject_unknown(changes: dict, allowed: Iterable[str]) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationFailed(
            fields={n: [_("This field cannot be changed here.")] for n in unknown}
        )


def _save(instance: models.Model, duplicate: Errors) -> None:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationFailed(fields=duplicate)


def _created(actor, instance, fields) -> None:
    audit.record(
        actor=actor,
        instance=instance,
        action=audit.AuditAction.CREATE,
        changes=audit.snapshot(instance, list(fields)),
    )


def _updated(actor, instance, diff, verb: str = "") -> None:
    audit.record(
        actor=actor, instance=instance, action=audit.AuditAction.UPDATE, changes=diff, verb=verb
    )


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationFailed(fields=errors)


# ---------------------------------------------------------------- routes


def _validate_route(*, actor, route: Route) -> None:
    errors = _field_errors(
        route, exclude=("project", "site", "sop_version", "quality_scheme", "anomaly_team")
    )
    project = route.project if route.project_id else None
    site = route.site if route.site_id else None
    if not _visible(Project, actor, project):
        _add(errors, "project", _("No such project."))
        project = None
    if not _visible(Site, actor, site):
        _add(errors, "site", _("No such site."))
    elif project is not None:
        if site.customer_id != project.customer_id:
            _add(errors, "site", _("This site does not belong to the project's customer."))
        elif project.sites.exists() and not project.sites.filter(pk=site.pk).exists():
            _add(errors, "site", _("This site is not one of the project's sites."))
        elif (
            route.pk
            and Checkpoint.objects.filter(route=route, asset__isnull=False)
            .exclude(asset__site=site)
            .exists()
        ):
            _add(errors, "site", _("Some checkpoints' assets are at another site."))
    if route.sop_version_id:
        version = route.sop_version
        if not _visible(SopVersion, actor, version):
            _add(errors, "sop_version", NO_SUCH)
        elif version.sop.work_order_type:
            _add(errors, "sop_version", _("Choose an inspection SOP, not a work-order one."))
    if route.quality_scheme_id and not _visible(QualityScheme, actor, route.quality_scheme):
        _add(errors, "quality_scheme", NO_SUCH)
    if route.anomaly_team_id and not _visible(Team, actor, route.anomaly_team):
        _add(errors, "anomaly_team", NO_SUCH)
    if project is not None and "code" not in errors:
        same = Route.objects.filter(project_id=project.pk, code__iexact=route.code)
        if same.exclude(pk=route.pk).exists():
            _add(errors, "code", DUPLICATE_ROUTE)
    _raise(errors)


def create_route(
    *,
    actor,
    project: Project,
    site: Site,
    code: str,
    name: str,
    description: str = "",
    expected_minutes: int = 60,
    sop_version: SopVersion | None = None,
    quality_scheme: QualityScheme | None = None,
    anomaly_action: str = "work_order",
    anomaly_priority: str = "normal",
    anomaly_team: Team | None = None,
    is_active: bool = True,
) -> Route:
    """A new route of ``project`` at ``site`` (one of the project's customer's sites)."""
    _require(actor)
    with transaction.atomic():
        route = Route(
            project=project,
            site=site,
            code=(code or "").strip(),
            name=(name or "").strip(),
            description=description or "",
            expected_minutes=expected_minutes,
            sop_version=sop_version,
            quality_scheme=quality_scheme,
            anomaly_action=anomaly_action,
            anomaly_priority=anomaly_priority,
            anomaly_team=anomaly_team,
            is_active=is_active,
        )
        _validate_route(actor=actor, route=route)
        _save(route, {"code": [str(DUPLICATE_ROUTE)]})
        _created(actor, route, ROUTE_FIELDS)
    return route


def update_route(*, actor, route: Route, **changes: Any) -> Route:
    """Change any of ``ROUTE_FIELDS``; unknown names are a 400."""
    _require(actor)
    _reject_unknown(changes, ROUTE_FIELDS)
    for name in ("code", "name"):
        if isinstance(changes.get(name), str):
            changes[name] = changes[name].strip()
    if "description" in changes:
        changes["description"] = changes["description"] or ""
    with transaction.atomic():
        route = _locked(Route, actor, route.pk)
        diff = audit.apply_changes(route, changes)
        if diff:
            _validate_route(actor=actor, route=route)
            _save(route, {"code": [str(DUPLICATE_ROUTE)]})
            _updated(actor, route, diff)
    return route


def archive_route(*, actor, route: Route) -> Route:
    """Retire a route: no new rounds are generated; its history stays."""
    return update_route(actor=actor, route=route, is_active=False)


def activate_route(*, actor, route: Route) -> Route:
    return update_route(actor=actor, route=route, is_active=True)


def set_route_sop(*, actor, route: Route, sop_version: SopVersion | None) -> Route:
    """Make ``sop_version`` the route's active SOP version (None detaches it)."""
    return update_route(actor=actor, route=route, sop_version=sop_version)


# ---------------------------------------------------------------- checkpoints


def _validate_checkpoint(*, actor, checkpoint: Checkpoint) -> None:
    errors = _field_errors(checkpoint, exclude=("route", "asset", "qr_value", "position"))
    if checkpoint.asset_id:
        asset = checkpoint.asset
        if not _visible(Asset, actor, asset):
            _add(errors, "asset", _("No such asset."))
        elif asset.site_id != checkpoint.route.site_id:
            _add(errors, "asset", _("This asset is not at the route's site."))
    if "code" not in errors:
        same = Checkpoint.objects.filter(route_id=checkpoint.route_id, code__iexact=checkpoint.code)
        if same.exclude(pk=checkpoint.pk).exists():
            _add(errors, "code", DUPLICATE_CHECKPOINT)
    _raise(errors)


def _renumber(route_id: int, order: list[int]) -> None:
    """Positions 1..N in ``order`` (checkpoint ids); only rows whose position moves are written."""
    current = dict(Checkpoint.objects.filter(route_id=route_id).values_list("pk", "position"))
    for index, pk in enumerate(order, start=1):
        if current.get(pk) != index:
            Checkpoint.objects.filter(pk=pk).update(position=index)


def _ordered_ids(route_id: int) -> list[int]:
    return list(
        Checkpoint.objects.filter(route_id=route_id)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )


def add_checkpoint(
    *,
    actor,
    route: Route,
    code: str,
    name: str,
    location: str = "",
    asset: Asset | None = None,
    position: int | None = None,
) -> Checkpoint:
    """Add a checkpoint at the end of the route, or at ``position`` (1-based)."""
    _require(actor)
    with transaction.atomic():
        route = _locked(Route, actor, route.pk)
        last = Checkpoint.objects.filter(route=route).aggregate(m=Max("position"))["m"] or 0
        checkpoint = Checkpoint(
            route=route,
            position=last + 1,
            code=(code or "").strip(),
            name=(name or "").strip(),
            location=(location or "").strip(),
            asset=asset,
        )
        _validate_checkpoint(actor=actor, checkpoint=checkpoint)
        _save(checkpoint, {"code": [str(DUPLICATE_CHECKPOINT)]})
        if position is not None:
            _place(checkpoint, position)
        _created(actor, checkpoint, ["route", "position", *CHECKPOINT_FIELDS])
    return checkpoint


def update_checkpoint(*, actor, checkpoint: Checkpoint, **changes: Any) -> Checkpoint:
    """Change code, name, location, asset or whether it is active."""
    _require(actor)
    _reject_unknown(changes, CHECKPOINT_FIELDS)
    for name in ("code", "name", "location"):
        if isinstance(changes.get(name), str):
            changes[name] = changes[name].strip()
    with transaction.atomic():
        checkpoint = _locked(Checkpoint, actor, checkpoint.pk)
        diff = audit.apply_changes(checkpoint, changes)
        if diff:
            _validate_checkpoint(actor=actor, checkpoint=checkpoint)
            _save(checkpoint, {"code": [str(DUPLICATE_CHECKPOINT)]})
            _updated(actor, checkpoint, diff)
    return checkpoint


def _place(checkpoint: Checkpoint, position: int) -> int:
    order = [pk for pk in _ordered_ids(checkpoint.route_id) if pk != checkpoint.pk]
    index = min(max(int(position), 1), len(order) + 1)
    order.insert(index - 1, checkpoint.pk)
    _renumber(checkpoint.route_id, order)
    checkpoint.position = index
    return index


def move_checkpoint(*, actor, checkpoint: Checkpoint, position: int) -> Checkpoint:
    """Put the checkpoint at ``position`` (1-based, clamped) and renumber the route 1..N."""
    _require(actor)
    if isinstance(position, bool) or not isinstance(position, int):
        raise ValidationFailed(fields={"position": [_("Give a whole number.")]})
    with transaction.atomic():
        checkpoint = _locked(Checkpoint, actor, checkpoint.pk)
        Route.objects.select_for_update(of=("self",)).filter(pk=checkpoint.route_id).first()
        before = checkpoint.position
        after = _place(checkpoint, position)
        if before != after:
            _updated(actor, checkpoint, {"position": [before, after]}, verb="move")
    return checkpoint


def remove_checkpoint(*, actor, checkpoint: Checkpoint) -> bool:
    """Erase a checkpoint nothing was recorded at (True); else retire it (False)."""
    _require(actor)
    with transaction.atomic():
        checkpoint = _locked(Checkpoint, actor, checkpoint.pk)
        used = (
            PointVisit.objects.filter(checkpoint=checkpoint).exists()
            or Anomaly.objects.filter(checkpoint=checkpoint).exists()
        )
        if used:
            diff = audit.apply_changes(checkpoint, {"is_active": False})
            if diff:
                checkpoint.save(update_fields=["is_active"])
                _updated(actor, checkpoint, diff, verb="retire")
            return False
        route_id = checkpoint.route_id
        for item in list(checkpoint.items.all()):
            erase(actor=actor, instance=item, fields=["name", "kind"], in_use_message=NO_SUCH)
        erase(
            actor=actor,
            instance=checkpoint,
            fields=["route", *CHECKPOINT_FIELDS],
            in_use_message=_("Rounds recorded at this checkpoint; it was retired instead."),
        )
        _renumber(route_id, _ordered_ids(route_id))
    return True


# ---------------------------------------------------------------- check items


def _clean_choices(raw, name: str, errors: Errors) -> list[str]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str) or not isinstance(raw, list | tuple):
        _add(errors, name, _("Give a list of choices."))
        return []
    values = [str(v).strip() for v in raw]
    if any(not v or len(v) > 100 for v in values):
        _add(errors, name, _("Each choice needs 1 to 100 characters."))
    elif len(values) != len(set(values)):
        _add(errors, name, _("A choice appears twice."))
    elif len(values) > MAX_CHOICES:
        _add(errors, name, _("At most %(n)d choices.") % {"n": MAX_CHOICES})
    return values


def _validate_item(*, item: CheckItem) -> None:
    errors = _field_errors(item, exclude=("checkpoint", "position", "choices", "abnormal_choices"))
    item.choices = _clean_choices(item.choices, "choices", errors)
    item.abnormal_choices = _clean_choices(item.abnormal_choices, "abnormal_choices", errors)
    if item.kind == ItemKind.NUMBER:
        lo, hi = item.normal_min, item.normal_max
        if lo is not None and hi is not None and "normal_max" not in errors:
            if Decimal(str(lo)) > Decimal(str(hi)):
                _add(errors, "normal_max", _("The normal maximum is below the normal minimum."))
    else:
        for name in ("normal_min", "normal_max"):
            if getattr(item, name) is not None:
                _add(errors, name, _("Only numeric items have a normal range."))
    if item.kind == ItemKind.CHOICE:
        if not item.choices and "choices" not in errors:
            _add(errors, "choices", _("A choice item needs its choices."))
        extra = [c for c in item.abnormal_choices if c not in item.choices]
        if extra and "abnormal_choices" not in errors:
            _add(
                errors,
                "abnormal_choices",
                _("Not among the choices: %(values)s.") % {"values": ", ".join(extra)},
            )
    else:
        for name in ("choices", "abnormal_choices"):
            if getattr(item, name):
                _add(errors, name, _("Only choice items have choices."))
    if item.kind == ItemKind.PHOTO:
        item.photo_required = True
    if "name" not in errors:
        same = CheckItem.objects.filter(checkpoint_id=item.checkpoint_id, name=item.name)
        if same.exclude(pk=item.pk).exists():
            _add(errors, "name", DUPLICATE_ITEM)
    _raise(errors)


def add_check_item(
    *,
    actor,
    checkpoint: Checkpoint,
    name: str,
    kind: str,
    unit: str = "",
    normal_min: Decimal | None = None,
    normal_max: Decimal | None = None,
    choices: Iterable[str] = (),
    abnormal_choices: Iterable[str] = (),
    normal_answer: bool = True,
    anomaly_when_abnormal: bool = True,
    photo_required: bool = False,
    required: bool = True,
) -> CheckItem:
    """Add an item at the end of the checkpoint's list."""
    _require(actor)
    with transaction.atomic():
        checkpoint = _locked(Checkpoint, actor, checkpoint.pk)
        last = CheckItem.objects.filter(checkpoint=checkpoint).aggregate(m=Max("position"))["m"]
        item = CheckItem(
            checkpoint=checkpoint,
            position=(last or 0) + 1,
            name=(name or "").strip(),
            kind=kind,
            unit=(unit or "").strip(),
            normal_min=normal_min,
            normal_max=normal_max,
            choices=list(choices or []),
            abnormal_choices=list(abnormal_choices or []),
            normal_answer=normal_answer,
            anomaly_when_abnormal=anomaly_when_abnormal,
            photo_required=photo_required,
            required=required,
        )
        _validate_item(item=item)
        _save(item, {"name": [str(DUPLICATE_ITEM)]})
        _created(actor, item, ["checkpoint", *ITEM_FIELDS])
    return item


def update_check_item(*, actor, item: CheckItem, **changes: Any) -> CheckItem:
    """Change any of ``ITEM_FIELDS``; the whole item is validated again."""
    _require(actor)
    _reject_unknown(changes, ITEM_FIELDS)
    for name in ("choices", "abnormal_choices"):
        if name in changes and isinstance(changes[name], tuple):
            changes[name] = list(changes[name])
    for name in ("normal_min", "normal_max"):
        if changes.get(name) is not None:
            try:
                changes[name] = Decimal(str(changes[name]))
            except ArithmeticError:
                raise ValidationFailed(fields={name: [_("Enter a number.")]})
    with transaction.atomic():
        item = _locked(CheckItem, actor, item.pk)
        diff = audit.apply_changes(item, changes)
        if diff:
            _validate_item(item=item)
            _save(item, {"name": [str(DUPLICATE_ITEM)]})
            _updated(actor, item, diff)
    return item


def remove_check_item(*, actor, item: CheckItem) -> bool:
    """Erase an item nothing was recorded for (True); else retire it (False)."""
    _require(actor)
    with transaction.atomic():
        item = _locked(CheckItem, actor, item.pk)
        if Reading.objects.filter(item=item).exists() or Anomaly.objects.filter(item=item).exists():
            diff = audit.apply_changes(item, {"is_active": False})
            if diff:
                item.save(update_fields=["is_active"])
                _updated(actor, item, diff, verb="retire")
            return False
        erase(
            actor=actor,
            instance=item,
            fields=["checkpoint", *ITEM_FIELDS],
            in_use_message=_("Readings use this item; it was retired instead."),
        )
    return True


# ---------------------------------------------------------------- schedules


def _clean_times(raw, errors: Errors) -> list[str]:
    if not isinstance(raw, list | tuple) or any(not isinstance(t, str) for t in raw):
        _add(errors, "times", _("Give times as a list like 08:00, 20:00."))
        return []
    times = sorted({t.strip() for t in raw})
    bad = [t for t in times if not TIME_RE.match(t)]
    if bad:
        _add(errors, "times", _("Not a time (HH:MM): %(values)s.") % {"values": ", ".join(bad)})
    elif len(times) > 24:
        _add(errors, "times", _("At most 24 times a day."))
    return times


def _clean_weekdays(raw, errors: Errors) -> list[int]:
    ok = isinstance(raw, list | tuple) and all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in raw
    )
    if not ok:
        _add(errors, "weekdays", _("Weekdays are numbers from 0 (Monday) to 6 (Sunday)."))
        return []
    return sorted(set(raw))


def _validate_schedule(*, actor, schedule: Schedule) -> None:
    errors = _field_errors(schedule, exclude=("route", "team", "engineer", "times", "weekdays"))
    schedule.times = _clean_times(schedule.times or [], errors)
    schedule.weekdays = _clean_weekdays(schedule.weekdays or [], errors)
    kind = schedule.kind
    if kind in (ScheduleKind.DAILY, ScheduleKind.WEEKLY, ScheduleKind.EVERY_SHIFT):
        if not schedule.times and "times" not in errors:
            _add(errors, "times", _("Give at least one start time."))
    if kind == ScheduleKind.WEEKLY and not schedule.weekdays and "weekdays" not in errors:
        _add(errors, "weekdays", _("Choose at least one weekday."))
    if kind == ScheduleKind.EVERY_N_HOURS:
        if not schedule.every_hours and "every_hours" not in errors:
            _add(errors, "every_hours", _("Say every how many hours."))
        elif len(schedule.times) > 1:
            _add(errors, "times", _("Give at most one time: when the first round starts."))
        elif (
            schedule.every_hours
            and "window_minutes" not in errors
            and schedule.window_minutes > schedule.every_hours * 60
        ):
            _add(errors, "window_minutes", _("The window is longer than the interval."))
    elif schedule.every_hours is not None:
        _add(errors, "every_hours", _("Only for schedules that repeat every N hours."))
    if schedule.team_id and not _visible(Team, actor, schedule.team):
        _add(errors, "team", NO_SUCH)
    if schedule.engineer_id and not access.may_do_rounds(schedule.engineer):
        _add(errors, "engineer", _("This person does not walk rounds."))
    if schedule.offer_for_grab and not schedule.team_id:
        _add(errors, "team", _("Rounds offered for grab need a team to offer them to."))
    if schedule.offer_for_grab and schedule.engineer_id:
        _add(errors, "engineer", _("A round offered for grab has no engineer yet."))
    if schedule.starts_on and schedule.ends_on and schedule.ends_on < schedule.starts_on:
        _add(errors, "ends_on", _("The end is before the start."))
    _raise(errors)


def create_schedule(
    *,
    actor,
    route: Route,
    kind: str,
    starts_on: dt.date | None = None,
    times: Iterable[str] = (),
    weekdays: Iterable[int] = (),
    every_hours: int | None = None,
    window_minutes: int = 120,
    team: Team | None = None,
    engineer=None,
    offer_for_grab: bool = False,
    ends_on: dt.date | None = None,
    is_active: bool = True,
) -> Schedule:
    """When ``route``'s rounds happen and who does them (``starts_on`` defaults to today)."""
    _require(actor)
    with transaction.atomic():
        route = _locked(Route, actor, route.pk)
        schedule = Schedule(
            route=route,
            kind=kind,
            times=list(times or []),
            weekdays=list(weekdays or []),
            every_hours=every_hours,
            window_minutes=window_minutes,
            team=team,
            engineer=engineer,
            offer_for_grab=offer_for_grab,
            starts_on=starts_on or timezone.localdate(),
            ends_on=ends_on,
            is_active=is_active,
        )
        _validate_schedule(actor=actor, schedule=schedule)
        schedule.save()
        _created(actor, schedule, ["route", *SCHEDULE_FIELDS])
    return schedule


def update_schedule(*, actor, schedule: Schedule, **changes: Any) -> Schedule:
    """Change any of ``SCHEDULE_FIELDS``. Rounds already generated stay as they are."""
    _require(actor)
    _reject_unknown(changes, SCHEDULE_FIELDS)
    for name in ("times", "weekdays"):
        if isinstance(changes.get(name), tuple):
            changes[name] = list(changes[name])
    with transaction.atomic():
        schedule = _locked(Schedule, actor, schedule.pk)
        diff = audit.apply_changes(schedule, changes)
        if diff:
            _validate_schedule(actor=actor, schedule=schedule)
            schedule.save()
            _updated(actor, schedule, diff)
    return schedule


# ---------------------------------------------------------------- quality schemes


def _validate_scheme(scheme: QualityScheme) -> None:
    errors = _field_errors(scheme)
    if not errors and scheme.total_weight <= 0:
        _add(errors, "coverage_weight", _("At least one weight must be above zero."))
    if "name" not in errors:
        same = QualityScheme.objects.filter(name__iexact=scheme.name.strip())
        if same.exclude(pk=scheme.pk).exists():
            _add(errors, "name", _("Another scheme has this name."))
    _raise(errors)


def create_quality_scheme(*, actor, name: str, **weights: Any) -> QualityScheme:
    """A scheme with ``name``; ``weights`` are any other ``SCHEME_FIELDS`` (defaults apply)."""
    _require(actor)
    _reject_unknown(weights, SCHEME_FIELDS)
    with transaction.atomic():
        scheme = QualityScheme(name=(name or "").strip(), **weights)
        _validate_scheme(scheme)
        _save(scheme, {"name": [str(_("Another scheme has this name."))]})
        _created(actor, scheme, SCHEME_FIELDS)
    return scheme


def update_quality_scheme(*, actor, scheme: QualityScheme, **changes: Any) -> QualityScheme:
    _require(actor)
    _reject_unknown(changes, SCHEME_FIELDS)
    with transaction.atomic():
        scheme = _locked(QualityScheme, actor, scheme.pk)
        diff = audit.apply_changes(scheme, changes)
        if diff:
            _validate_scheme(scheme)
            _save(scheme, {"name": [str(_("Another scheme has this name."))]})
            _updated(actor, scheme, diff)
    return scheme


# ---------------------------------------------------------------- SOPs


def create_sop(*, actor, code: str, title: str, work_order_type: str = "") -> Sop:
    """A new SOP document (its text and KPIs come with its first version)."""
    _require(actor)
    with transaction.atomic():
        sop = Sop(code=(code or "").strip(), title=(title or "").strip(),
                  work_order_type=work_order_type or "")  # fmt: skip
        errors = _field_errors(sop)
        if "code" not in errors and Sop.objects.filter(code__iexact=sop.code).exists():
            _add(errors, "code", _("Another SOP has this code."))
        _raise(errors)
        _save(sop, {"code": [str(_("Another SOP has this code."))]})
        _created(actor, sop, SOP_FIELDS)
    return sop


def update_sop(*, actor, sop: Sop, **changes: Any) -> Sop:
    """Change the title or retire the SOP; code and type stay (versions depend on them)."""
    _require(actor)
    _reject_unknown(changes, ("title", "is_active"))
    with transaction.atomic():
        sop = _locked(Sop, actor, sop.pk)
        diff = audit.apply_changes(sop, changes)
        if diff:
            _raise(_field_errors(sop))
            sop.save()
            _updated(actor, sop, diff)
    return sop


def _clean_kpis(kpis: Iterable[dict]) -> list[SopKpi]:
    rows, errors = [], {}
    kpis = list(kpis or [])
    if len(kpis) > MAX_KPIS:
        raise ValidationFailed(fields={"kpis": [_("At most %(n)d KPIs.") % {"n": MAX_KPIS}]})
    for i, raw in enumerate(kpis):
        key = f"kpis.{i}"
        if not isinstance(raw, dict):
            _add(errors, key, _("Give kind, metric, comparator and target."))
            continue
        kpi = SopKpi(
            kind=raw.get("kind") or KpiKind.RESULT,
            metric=raw.get("metric") or "",
            comparator=raw.get("comparator") or "",
            target=raw.get("target"),
            position=i,
        )
        for name, msgs in _field_errors(kpi, exclude=("version",)).items():
            for msg in msgs:
                _add(errors, f"{key}.{name}", msg)
        if f"{key}.metric" not in errors and kpi.metric not in KpiMetric.values:
            _add(errors, f"{key}.metric", _("Unknown metric."))
        rows.append(kpi)
    _raise(errors)
    return rows


def publish_sop_version(
    *,
    actor,
    sop: Sop,
    body: str = "",
    effective_from: dt.date | None = None,
    kpis: Iterable[dict] = (),
) -> SopVersion:
    """The next version of ``sop`` with its (sanitised) text and KPIs.

    ``kpis``: ``[{"kind": "result"|"process", "metric": KpiMetric, "comparator": "gte"|"lte",
    "target": Decimal}]``; rates are fractions (0.8 for 80 %)."""
    _require(actor)
    with transaction.atomic():
        sop = _locked(Sop, actor, sop.pk)
        rows = _clean_kpis(kpis)
        last = SopVersion.objects.filter(sop=sop).aggregate(m=Max("number"))["m"] or 0
        version = SopVersion(
            sop=sop,
            number=last + 1,
            body=sanitize(body or ""),
            effective_from=effective_from or timezone.localdate(),
            created_by=actor,
        )
        version.save()
        for kpi in rows:
            kpi.version = version
        SopKpi.objects.bulk_create(rows)
        changes = audit.snapshot(version, ["number", "effective_from"])
        changes["kpis"] = [None, [f"{k.metric} {k.comparator} {k.target}" for k in rows]]
        audit.record(
            actor=actor, instance=version, action=audit.AuditAction.CREATE, changes=changes
        )
    return version


__all__ = [
    "activate_route",
    "add_check_item",
    "add_checkpoint",
    "archive_route",
    "create_quality_scheme",
    "create_route",
    "create_schedule",
    "create_sop",
    "move_checkpoint",
    "publish_sop_version",
    "remove_check_item",
    "remove_checkpoint",
    "set_route_sop",
    "update_check_item",
    "update_checkpoint",
    "update_quality_scheme",
    "update_route",
    "update_schedule",
    "update_sop",
]
