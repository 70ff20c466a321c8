"""Verbs on inspection configuration: routes, checkpoints, check items and schedules
(``Cap.MANAGE_ROUTES``: admins and managers); quality schemes and SOPs are in ``sops``.

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

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Team
from frontline.core import audit
from frontline.core.deletion import erase
from frontline.core.errors import (
    ValidationFailed,
)
from frontline.inspections import access
from frontline.inspections.config_common import (
    Errors,
    add_error,
    audit_created,
    audit_updated,
    field_errors,
    locked,
    raise_errors,
    reject_unknown,
    require_manager,
    save_or_duplicate,
    visible,
)
from frontline.inspections.models import (
    Anomaly,
    CheckItem,
    Checkpoint,
    PointVisit,
    QualityScheme,
    Reading,
    Route,
    Schedule,
    SopVersion,
)
from frontline.inspections.states import ItemKind, ScheduleKind
from frontline.sites.models import Asset, Project, Site

ROUTE_FIELDS = ("project", "site", "code", "name", "description", "expected_minutes",
                "sop_version", "quality_scheme", "anomaly_action", "anomaly_priority",
                "anomaly_team", "is_active")  # fmt: skip
CHECKPOINT_FIELDS = ("code", "name", "location", "asset", "is_active")
ITEM_FIELDS = ("name", "kind", "unit", "normal_min", "normal_max", "choices",
               "abnormal_choices", "normal_answer", "anomaly_when_abnormal", "photo_required",
               "required", "is_active")  # fmt: skip
SCHEDULE_FIELDS = ("kind", "times", "weekdays", "every_hours", "window_minutes", "team",
                   "engineer", "offer_for_grab", "starts_on", "ends_on", "is_active")  # fmt: skip

DUPLICATE_ROUTE = _("This project already has a route with this code.")
DUPLICATE_CHECKPOINT = _("This route already has a checkpoint with this code.")
DUPLICATE_ITEM = _("This checkpoint already has an item with this name.")
NO_SUCH = _("No such object.")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_CHOICES = 30


# ---------------------------------------------------------------- routes


def _validate_route(*, actor, route: Route) -> None:
    errors = field_errors(
        route, exclude=("project", "site", "sop_version", "quality_scheme", "anomaly_team")
    )
    project = route.project if route.project_id else None
    site = route.site if route.site_id else None
    if not visible(Project, actor, project):
        add_error(errors, "project", _("No such project."))
        project = None
    if not visible(Site, actor, site):
        add_error(errors, "site", _("No such site."))
    elif project is not None:
        if site.customer_id != project.customer_id:
            add_error(errors, "site", _("This site does not belong to the project's customer."))
        elif project.sites.exists() and not project.sites.filter(pk=site.pk).exists():
            add_error(errors, "site", _("This site is not one of the project's sites."))
        elif (
            route.pk
            and Checkpoint.objects.filter(route=route, asset__isnull=False)
            .exclude(asset__site=site)
            .exists()
        ):
            add_error(errors, "site", _("Some checkpoints' assets are at another site."))
    if route.sop_version_id:
        version = route.sop_version
        if not visible(SopVersion, actor, version):
            add_error(errors, "sop_version", NO_SUCH)
        elif version.sop.work_order_type:
            add_error(errors, "sop_version", _("Choose an inspection SOP, not a work-order one."))
    if route.quality_scheme_id and not visible(QualityScheme, actor, route.quality_scheme):
        add_error(errors, "quality_scheme", NO_SUCH)
    if route.anomaly_team_id and not visible(Team, actor, route.anomaly_team):
        add_error(errors, "anomaly_team", NO_SUCH)
    if project is not None and "code" not in errors:
        same = Route.objects.filter(project_id=project.pk, code__iexact=route.code)
        if same.exclude(pk=route.pk).exists():
            add_error(errors, "code", DUPLICATE_ROUTE)
    raise_errors(errors)


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
    require_manager(actor)
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
        save_or_duplicate(route, {"code": [str(DUPLICATE_ROUTE)]})
        audit_created(actor, route, ROUTE_FIELDS)
    return route


def update_route(*, actor, route: Route, **changes: Any) -> Route:
    """Change any of ``ROUTE_FIELDS``; unknown names are a 400."""
    require_manager(actor)
    reject_unknown(changes, ROUTE_FIELDS)
    for name in ("code", "name"):
        if isinstance(changes.get(name), str):
            changes[name] = changes[name].strip()
    if "description" in changes:
        changes["description"] = changes["description"] or ""
    with transaction.atomic():
        route = locked(Route, actor, route.pk)
        diff = audit.apply_changes(route, changes)
        if diff:
            _validate_route(actor=actor, route=route)
            save_or_duplicate(route, {"code": [str(DUPLICATE_ROUTE)]})
            audit_updated(actor, route, diff)
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
    errors = field_errors(checkpoint, exclude=("route", "asset", "qr_value", "position"))
    if checkpoint.asset_id:
        asset = checkpoint.asset
        if not visible(Asset, actor, asset):
            add_error(errors, "asset", _("No such asset."))
        elif asset.site_id != checkpoint.route.site_id:
            add_error(errors, "asset", _("This asset is not at the route's site."))
    if "code" not in errors:
        same = Checkpoint.objects.filter(route_id=checkpoint.route_id, code__iexact=checkpoint.code)
        if same.exclude(pk=checkpoint.pk).exists():
            add_error(errors, "code", DUPLICATE_CHECKPOINT)
    raise_errors(errors)


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
    require_manager(actor)
    with transaction.atomic():
        route = locked(Route, actor, route.pk)
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
        save_or_duplicate(checkpoint, {"code": [str(DUPLICATE_CHECKPOINT)]})
        if position is not None:
            _place(checkpoint, position)
        audit_created(actor, checkpoint, ["route", "position", *CHECKPOINT_FIELDS])
    return checkpoint


def update_checkpoint(*, actor, checkpoint: Checkpoint, **changes: Any) -> Checkpoint:
    """Change code, name, location, asset or whether it is active."""
    require_manager(actor)
    reject_unknown(changes, CHECKPOINT_FIELDS)
    for name in ("code", "name", "location"):
        if isinstance(changes.get(name), str):
            changes[name] = changes[name].strip()
    with transaction.atomic():
        checkpoint = locked(Checkpoint, actor, checkpoint.pk)
        diff = audit.apply_changes(checkpoint, changes)
        if diff:
            _validate_checkpoint(actor=actor, checkpoint=checkpoint)
            save_or_duplicate(checkpoint, {"code": [str(DUPLICATE_CHECKPOINT)]})
            audit_updated(actor, checkpoint, diff)
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
    require_manager(actor)
    if isinstance(position, bool) or not isinstance(position, int):
        raise ValidationFailed(fields={"position": [_("Give a whole number.")]})
    with transaction.atomic():
        checkpoint = locked(Checkpoint, actor, checkpoint.pk)
        Route.objects.select_for_update(of=("self",)).filter(pk=checkpoint.route_id).first()
        before = checkpoint.position
        after = _place(checkpoint, position)
        if before != after:
            audit_updated(actor, checkpoint, {"position": [before, after]}, verb="move")
    return checkpoint


def remove_checkpoint(*, actor, checkpoint: Checkpoint) -> bool:
    """Erase a checkpoint nothing was recorded at (True); else retire it (False)."""
    require_manager(actor)
    with transaction.atomic():
        checkpoint = locked(Checkpoint, actor, checkpoint.pk)
        used = (
            PointVisit.objects.filter(checkpoint=checkpoint).exists()
            or Anomaly.objects.filter(checkpoint=checkpoint).exists()
        )
        if used:
            diff = audit.apply_changes(checkpoint, {"is_active": False})
            if diff:
                checkpoint.save(update_fields=["is_active"])
                audit_updated(actor, checkpoint, diff, verb="retire")
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
        add_error(errors, name, _("Give a list of choices."))
        return []
    values = [str(v).strip() for v in raw]
    if any(not v or len(v) > 100 for v in values):
        add_error(errors, name, _("Each choice needs 1 to 100 characters."))
    elif len(values) != len(set(values)):
        add_error(errors, name, _("A choice appears twice."))
    elif len(values) > MAX_CHOICES:
        add_error(errors, name, _("At most %(n)d choices.") % {"n": MAX_CHOICES})
    return values


def _validate_item(*, item: CheckItem) -> None:
    errors = field_errors(item, exclude=("checkpoint", "position", "choices", "abnormal_choices"))
    item.choices = _clean_choices(item.choices, "choices", errors)
    item.abnormal_choices = _clean_choices(item.abnormal_choices, "abnormal_choices", errors)
    if item.kind == ItemKind.NUMBER:
        lo, hi = item.normal_min, item.normal_max
        if lo is not None and hi is not None and "normal_max" not in errors:
            if Decimal(str(lo)) > Decimal(str(hi)):
                add_error(
                    errors, "normal_max", _("The normal maximum is below the normal minimum.")
                )
    else:
        for name in ("normal_min", "normal_max"):
            if getattr(item, name) is not None:
                add_error(errors, name, _("Only numeric items have a normal range."))
    if item.kind == ItemKind.CHOICE:
        if not item.choices and "choices" not in errors:
            add_error(errors, "choices", _("A choice item needs its choices."))
        extra = [c for c in item.abnormal_choices if c not in item.choices]
        if extra and "abnormal_choices" not in errors:
            add_error(
                errors,
                "abnormal_choices",
                _("Not among the choices: %(values)s.") % {"values": ", ".join(extra)},
            )
    else:
        for name in ("choices", "abnormal_choices"):
            if getattr(item, name):
                add_error(errors, name, _("Only choice items have choices."))
    if item.kind == ItemKind.PHOTO:
        item.photo_required = True
    if "name" not in errors:
        same = CheckItem.objects.filter(checkpoint_id=item.checkpoint_id, name=item.name)
        if same.exclude(pk=item.pk).exists():
            add_error(errors, "name", DUPLICATE_ITEM)
    raise_errors(errors)


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
    require_manager(actor)
    with transaction.atomic():
        checkpoint = locked(Checkpoint, actor, checkpoint.pk)
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
        save_or_duplicate(item, {"name": [str(DUPLICATE_ITEM)]})
        audit_created(actor, item, ["checkpoint", *ITEM_FIELDS])
    return item


def update_check_item(*, actor, item: CheckItem, **changes: Any) -> CheckItem:
    """Change any of ``ITEM_FIELDS``; the whole item is validated again."""
    require_manager(actor)
    reject_unknown(changes, ITEM_FIELDS)
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
        item = locked(CheckItem, actor, item.pk)
        diff = audit.apply_changes(item, changes)
        if diff:
            _validate_item(item=item)
            save_or_duplicate(item, {"name": [str(DUPLICATE_ITEM)]})
            audit_updated(actor, item, diff)
    return item


def remove_check_item(*, actor, item: CheckItem) -> bool:
    """Erase an item nothing was recorded for (True); else retire it (False)."""
    require_manager(actor)
    with transaction.atomic():
        item = locked(CheckItem, actor, item.pk)
        if Reading.objects.filter(item=item).exists() or Anomaly.objects.filter(item=item).exists():
            diff = audit.apply_changes(item, {"is_active": False})
            if diff:
                item.save(update_fields=["is_active"])
                audit_updated(actor, item, diff, verb="retire")
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
        add_error(errors, "times", _("Give times as a list like 08:00, 20:00."))
        return []
    times = sorted({t.strip() for t in raw})
    bad = [t for t in times if not TIME_RE.match(t)]
    if bad:
        add_error(
            errors, "times", _("Not a time (HH:MM): %(values)s.") % {"values": ", ".join(bad)}
        )
    elif len(times) > 24:
        add_error(errors, "times", _("At most 24 times a day."))
    return times


def _clean_weekdays(raw, errors: Errors) -> list[int]:
    ok = isinstance(raw, list | tuple) and all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in raw
    )
    if not ok:
        add_error(errors, "weekdays", _("Weekdays are numbers from 0 (Monday) to 6 (Sunday)."))
        return []
    return sorted(set(raw))


def _validate_schedule(*, actor, schedule: Schedule) -> None:
    errors = field_errors(schedule, exclude=("route", "team", "engineer", "times", "weekdays"))
    schedule.times = _clean_times(schedule.times or [], errors)
    schedule.weekdays = _clean_weekdays(schedule.weekdays or [], errors)
    kind = schedule.kind
    if kind in (ScheduleKind.DAILY, ScheduleKind.WEEKLY, ScheduleKind.EVERY_SHIFT):
        if not schedule.times and "times" not in errors:
            add_error(errors, "times", _("Give at least one start time."))
    if kind == ScheduleKind.WEEKLY and not schedule.weekdays and "weekdays" not in errors:
        add_error(errors, "weekdays", _("Choose at least one weekday."))
    if kind == ScheduleKind.EVERY_N_HOURS:
        if not schedule.every_hours and "every_hours" not in errors:
            add_error(errors, "every_hours", _("Say every how many hours."))
        elif len(schedule.times) > 1:
            add_error(errors, "times", _("Give at most one time: when the first round starts."))
        elif (
            schedule.every_hours
            and "window_minutes" not in errors
            and schedule.window_minutes > schedule.every_hours * 60
        ):
            add_error(errors, "window_minutes", _("The window is longer than the interval."))
    elif schedule.every_hours is not None:
        add_error(errors, "every_hours", _("Only for schedules that repeat every N hours."))
    if schedule.team_id and not visible(Team, actor, schedule.team):
        add_error(errors, "team", NO_SUCH)
    if schedule.engineer_id and not access.may_do_rounds(schedule.engineer):
        add_error(errors, "engineer", _("This person does not walk rounds."))
    if schedule.offer_for_grab and not schedule.team_id:
        add_error(errors, "team", _("Rounds offered for grab need a team to offer them to."))
    if schedule.offer_for_grab and schedule.engineer_id:
        add_error(errors, "engineer", _("A round offered for grab has no engineer yet."))
    if schedule.starts_on and schedule.ends_on and schedule.ends_on < schedule.starts_on:
        add_error(errors, "ends_on", _("The end is before the start."))
    raise_errors(errors)


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
    require_manager(actor)
    with transaction.atomic():
        route = locked(Route, actor, route.pk)
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
        audit_created(actor, schedule, ["route", *SCHEDULE_FIELDS])
    return schedule


def update_schedule(*, actor, schedule: Schedule, **changes: Any) -> Schedule:
    """Change any of ``SCHEDULE_FIELDS``. Rounds already generated stay as they are."""
    require_manager(actor)
    reject_unknown(changes, SCHEDULE_FIELDS)
    for name in ("times", "weekdays"):
        if isinstance(changes.get(name), tuple):
            changes[name] = list(changes[name])
    with transaction.atomic():
        schedule = locked(Schedule, actor, schedule.pk)
        diff = audit.apply_changes(schedule, changes)
        if diff:
            _validate_schedule(actor=actor, schedule=schedule)
            schedule.save()
            audit_updated(actor, schedule, diff)
    return schedule
