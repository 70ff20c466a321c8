"""Planning a day with the optimiser: from the database to a ``PlanRun`` and back.

``start_plan`` records a queued run and, after commit, hands it to the Celery task
``dispatch.tasks.run_plan``, which calls ``execute``: the day's problem is built from
the queue (orders new or rejected, with a window on that day or none), the engineers
who work that day (shift or working day, leave, effective skills with valid
certifications, last position or home base) and the visits already committed to them
(fixed, never moved); it is stored on the run as the exact optimiser input, solved
with progress reported on the run, checked by the independent validator, and written
as ``PlanAssignment`` rows. ``apply_plan`` then dispatches all or some of them through
``field.services.dispatch`` — skipping orders that changed since planning — and auto
mode (the run's flag, or the team's dispatch mode) does that at the end of the task.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.models import DispatchMode, Team
from frontline.accounts.roles import OrganizationKind
from frontline.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from frontline.core.locks import lock
from frontline.dispatch.models import PlanAssignment, PlanRun, PlanStatus
from frontline.dispatch.optimiser import ProblemError, parse_problem, solve, validate
from frontline.field import access, services
from frontline.field.engineers import availability, effective_skills, site_point
from frontline.field.models import EngineerProfile, WorkOrder
from frontline.field.states import QUEUE_STATUSES, DispatchVia
from frontline.field.suggestions import day_bounds, jobs_on

logger = logging.getLogger(__name__)

MIN_TIME_LIMIT, MAX_TIME_LIMIT = 1, 600
MAX_ORDERS = 2000
PROGRESS_EVERY_S = 1.0
APPLICABLE = (PlanStatus.DONE, PlanStatus.PARTLY_APPLIED)


# ---------------------------------------------------------------- building the problem


def _minutes(moment: dt.datetime, origin: dt.datetime) -> int:
    return int((moment - origin).total_seconds() // 60)


def _point(lat, lon) -> dict:
    return {"lat": float(lat), "lon": float(lon)}


def _skill_key(skill_id: int, codes: dict[int, str]) -> str:
    return codes.get(skill_id) or f"skill-{skill_id}"


def _engineers(day, team, origin, now) -> tuple[list[dict], dict[int, EngineerProfile]]:
    profiles = EngineerProfile.objects.filter(
        is_active=True,
        user__is_active=True,
        user__membership__organization__kind=OrganizationKind.OPERATOR,
    ).select_related("user")
    if team is not None:
        profiles = profiles.filter(user__teams=team)
    profiles = list(profiles.order_by("user_id"))
    hours = availability(profiles, day)
    skills = effective_skills([p.user_id for p in profiles], day)
    codes = _skill_codes({s for held in skills.values() for s in held})
    out, by_id = [], {}
    today = timezone.localdate(now) == day
    for p in profiles:
        period = hours[p.user_id]
        if period is None:
            continue
        start = max(_minutes(period.start, origin), _minutes(now, origin) if today else 0, 0)
        end = _minutes(period.end, origin)
        if end <= start:
            continue
        home = _point(p.home_latitude, p.home_longitude)
        here = home
        if today and p.last_latitude is not None and p.last_longitude is not None:
            here = _point(p.last_latitude, p.last_longitude)
        out.append({
            "id": str(p.user_id),
            "name": p.user.display_name or p.user.email,
            "shift": {"start": start, "end": end},
            "start": here,
            "end": home,
            "skills": {_skill_key(s, codes): lvl for s, lvl in skills[p.user_id].items()},
            "max_work_minutes": p.daily_capacity_minutes,
            "fixed": [],
        })  # fmt: skip
        by_id[p.user_id] = p
    return out, by_id


def _skill_codes(skill_ids) -> dict[int, str]:
    from frontline.accounts.models import Skill
    from frontline.dispatch.optimiser.parse import SKILL_CODE

    rows = Skill.objects.filter(pk__in=list(skill_ids)).values_list("pk", "code")
    return {pk: code for pk, code in rows if SKILL_CODE.match(code)}


def _queue(day, team):
    start, end = day_bounds(day)
    orders = (
        WorkOrder.objects.filter(status__in=QUEUE_STATUSES, partner__isnull=True)
        .filter(Q(window_start__isnull=True) | Q(window_start__lt=end, window_end__gt=start))
        .select_related("site")
    )
    if team is not None:
        orders = orders.filter(team=team)
    return list(orders.prefetch_related("required_skills").order_by("pk")[:MAX_ORDERS])


def _window(wo, origin, shift_start=0, shift_end=None) -> dict:
    early = 0 if wo.window_start is None else max(_minutes(wo.window_start, origin), 0)
    late = 24 * 60 if wo.window_end is None else max(_minutes(wo.window_end, origin), early)
    if shift_end is not None:  # a committed visit: keep it inside its engineer's day
        last = max(shift_end - wo.estimated_minutes, shift_start)
        early = min(max(early, shift_start), last)
        late = min(max(late, early), last)
    return {"start": early, "end": late}


def _order(wo, origin, codes) -> dict:
    return {
        "id": wo.number,
        "work_order": wo.pk,
        "title": wo.title[:80],
        "location": _point(*site_point(wo.site)),
        "duration": wo.estimated_minutes,
        "windows": [_window(wo, origin)],
        "skills": {_skill_key(r.skill_id, codes): r.min_level for r in wo.required_skills.all()},
        "priority": wo.priority,
        "site_id": str(wo.site_id),
    }


def _serves(order: dict, engineers: list[dict]) -> bool:
    window = order["windows"][0]
    return any(
        window["start"] <= e["shift"]["end"] - order["duration"]
        and window["end"] >= e["shift"]["start"]
        for e in engineers
    )


def _add_fixed(day, engineers, origin) -> list[dict]:
    by_id = {int(e["id"]): e for e in engineers}
    fixed = []
    for user_id, jobs in jobs_on(day, list(by_id)).items():
        engineer = by_id[user_id]
        shift = engineer["shift"]
        for wo in jobs:
            if shift["end"] - shift["start"] < wo.estimated_minutes or site_point(wo.site) is None:
                continue
            window = _window(wo, origin, shift["start"], shift["end"])
            fixed.append({
                "id": wo.number, "work_order": wo.pk, "title": wo.title[:80],
                "location": _point(*site_point(wo.site)), "duration": wo.estimated_minutes,
                "windows": [window], "priority": wo.priority, "fixed_engineer": engineer["id"],
            })  # fmt: skip
            engineer["fixed"].append(wo.number)
    return fixed


def build_problem(day: dt.date, team: Team | None = None, *, now=None) -> tuple[dict, list]:
    """The optimiser's JSON input for ``day`` (and ``team``), and the orders left out
    before planning (no coordinates, or no engineer works during their window)."""
    now = now or timezone.now()
    origin, _end = day_bounds(day)
    engineers, _profiles = _engineers(day, team, origin, now)
    orders = _queue(day, team)
    codes = _skill_codes({r.skill_id for wo in orders for r in wo.required_skills.all()})
    planned, left_out = [], []
    for wo in orders:
        if site_point(wo.site) is None:
            left_out.append(_left(wo, _("the site has no coordinates")))
            continue
        order = _order(wo, origin, codes)
        if not _serves(order, engineers):
            left_out.append(_left(wo, _("no engineer works during its window")))
            continue
        planned.append(order)
    fixed = _add_fixed(day, engineers, origin)
    problem = {
        "day_start": origin.isoformat(),
        "engineers": engineers,
        "orders": planned + fixed,
    }
    return problem, left_out


def _left(wo, reason) -> dict:
    return {"order_id": wo.number, "work_order": wo.pk, "reason": str(reason)}


def fixed_order_ids(plan: PlanRun) -> set[int]:
    """Work orders that were already committed when the plan was made (never applied)."""
    return {
        o["work_order"]
        for o in plan.problem.get("orders", [])
        if o.get("fixed_engineer") and "work_order" in o
    }


# ---------------------------------------------------------------- starting and running


def start_plan(*, actor, day, team=None, time_limit_s=30, auto_apply=False) -> PlanRun:
    """Queue a plan run for ``day`` (and ``team``); the job starts after commit."""
    access.require(access.may_dispatch(actor))
    errors: dict = {}
    try:
        time_limit_s = int(time_limit_s)
    except (TypeError, ValueError):
        time_limit_s = 0
    if not MIN_TIME_LIMIT <= time_limit_s <= MAX_TIME_LIMIT:
        errors["time_limit_s"] = [
            _("Between %(low)d and %(high)d seconds.")
            % {"low": MIN_TIME_LIMIT, "high": MAX_TIME_LIMIT}
        ]
    if not isinstance(day, dt.date):
        errors["day"] = [_("Give a date.")]
    if team is not None and (
        not team.is_active or team.organization.kind != OrganizationKind.OPERATOR
    ):
        errors["team"] = [_("Choose one of our active teams.")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        plan = PlanRun.objects.create(
            day=day,
            team=team,
            time_limit_s=time_limit_s,
            auto_apply=bool(auto_apply),
            created_by=actor,
            message=_("Waiting for a worker…"),
        )
        # Through the job outbox: when the broker is down the run waits, queued, and
        # starts when it is back (fail_stale_runs gives up on it after an hour).
        from frontline import jobs
        from frontline.dispatch.tasks import run_plan

        jobs.enqueue(run_plan, args=[plan.pk], key=f"dispatch.plan:{plan.pk}")
    return plan


class _Reporter:
    """Writes the optimiser's progress onto the run, at most once a second."""

    def __init__(self, plan_id: int) -> None:
        self.plan_id, self.last = plan_id, 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        PlanRun.objects.filter(pk=self.plan_id, status=PlanStatus.RUNNING).update(
            progress=round(min(max(fraction, 0.0), 1.0) * 0.9 + 0.05, 3), message=message[:300]
        )


def execute(plan_id: int) -> PlanRun | None:
    """Run one queued plan (the Celery task's body). Idempotent: a run that is no longer
    queued is left alone, so a message delivered twice plans once."""
    started = timezone.now()
    claimed = PlanRun.objects.filter(pk=plan_id, status=PlanStatus.QUEUED).update(
        status=PlanStatus.RUNNING, started_at=started, progress=0.01,
        message=_("Reading the queue and the engineers' day…"),
    )  # fmt: skip
    if not claimed:
        return None
    plan = PlanRun.objects.select_related("team", "created_by").get(pk=plan_id)
    try:
        _plan(plan)
    except ProblemError as exc:
        _fail(plan, _("The planner cannot use this input: %(error)s") % {"error": exc.message})
    except DomainError as exc:
        _fail(plan, str(exc.message))
    except Exception as exc:  # noqa: BLE001 - a job must end in a state the page shows
        logger.exception("Plan run %s failed", plan_id)
        _fail(plan, _("The planner failed (%(kind)s); try again.") % {"kind": type(exc).__name__})
        return plan
    plan.refresh_from_db()
    if plan.status == PlanStatus.DONE and _auto(plan):
        try:
            apply_plan(actor=plan.created_by, plan=plan)
        except DomainError as exc:
            logger.warning("Plan run %s was not applied automatically: %s", plan_id, exc)
    return plan


def _auto(plan: PlanRun) -> bool:
    team_auto = plan.team is not None and plan.team.dispatch_mode == DispatchMode.AUTO
    return (plan.auto_apply or team_auto) and plan.created_by is not None


def _fail(plan: PlanRun, error: str) -> None:
    PlanRun.objects.filter(pk=plan.pk).update(
        status=PlanStatus.FAILED, error=error[:2000], message=error[:300],
        finished_at=timezone.now(),
    )  # fmt: skip


def _plan(plan: PlanRun) -> None:
    problem_json, left_before = build_problem(plan.day, plan.team)
    PlanRun.objects.filter(pk=plan.pk).update(problem=problem_json)
    if not problem_json["orders"]:
        _finish(plan, [], left_before, {"orders_planned": 0}, problem_json)
        return
    problem = parse_problem(problem_json)
    reporter = _Reporter(plan.pk)
    PlanRun.objects.filter(pk=plan.pk).update(progress=0.05, message=_("Searching…"))
    result = solve(problem, time_limit=float(plan.time_limit_s), progress=reporter)
    violations = validate(problem, result)
    if violations:
        raise RuntimeError("plan failed validation: " + "; ".join(violations[:5]))
    rows = _assignments(plan, problem, result, problem_json)
    by_number = {o["id"]: o["work_order"] for o in problem_json["orders"]}
    left = left_before + [
        {"order_id": o.order_id, "work_order": by_number.get(o.order_id), "reason": o.reason}
        for o in result.left_out
    ]
    kpis = dict(result.kpis) | {"solver": result.solver, "runtime_s": round(result.runtime_s, 2)}
    kpis["orders_left_out"] = len(left)
    _finish(plan, rows, left, kpis, problem_json)


def _assignments(plan, problem, result, problem_json) -> list[PlanAssignment]:
    origin = dt.datetime.fromisoformat(problem_json["day_start"])
    by_number = {o["id"]: o["work_order"] for o in problem_json["orders"]}
    rows = []
    for route in result.routes:
        engineer = problem.engineer_by_id[route.engineer_id]
        here = engineer.start
        for sequence, stop in enumerate(route.stops, start=1):
            order = problem.order_by_id[stop.order_id]
            metres, _minutes_ = problem.travel.leg(here, order.location)
            here = order.location
            rows.append(PlanAssignment(
                plan=plan, work_order_id=by_number[stop.order_id],
                engineer_id=int(route.engineer_id), sequence=sequence,
                arrival=origin + dt.timedelta(minutes=stop.arrival),
                start=origin + dt.timedelta(minutes=stop.start),
                end=origin + dt.timedelta(minutes=stop.end),
                travel_km=round(metres / 1000.0, 3),
            ))  # fmt: skip
    return rows


def _finish(plan, rows, left_out, kpis, problem_json) -> None:
    with transaction.atomic():
        PlanAssignment.objects.filter(plan=plan).delete()
        PlanAssignment.objects.bulk_create(rows)
        PlanRun.objects.filter(pk=plan.pk).update(
            status=PlanStatus.DONE, progress=1.0, kpis=kpis, left_out=left_out,
            problem=problem_json, finished_at=timezone.now(),
            message=_("Ready: %(n)d visits planned, %(m)d left out.")
            % {"n": len(rows), "m": len(left_out)},
        )  # fmt: skip


# ---------------------------------------------------------------- applying


@dataclass
class Applied:
    applied: list[PlanAssignment] = field(default_factory=list)
    skipped: list[tuple[PlanAssignment, str]] = field(default_factory=list)


def _stale(wo: WorkOrder, plan: PlanRun) -> str:
    if wo.status not in QUEUE_STATUSES:
        return _("it is %(status)s now") % {"status": wo.get_status_display()}
    if wo.partner_id is not None:
        return _("it went to a partner outlet")
    if plan.started_at is not None and wo.updated_at > plan.started_at:
        return _("it was changed after planning")
    return ""


def apply_plan(*, actor, plan: PlanRun, assignment_ids=None) -> Applied:
    """Dispatch the plan's visits (all, or those in ``assignment_ids``) to their engineers
    with the planned start and route position. Orders that changed since planning are
    skipped and reported; committed visits were never the plan's to give."""
    access.require(access.may_dispatch(actor))
    result = Applied()
    with transaction.atomic():
        plan = lock(PlanRun.objects.visible_to(actor), plan.pk)
        if plan.status not in APPLICABLE:
            raise Conflict(
                _("Only a finished plan can be applied (this one is %(status)s).")
                % {"status": plan.get_status_display()},
                code="plan_not_ready",
            )
        fixed = fixed_order_ids(plan)
        todo = plan.assignments.filter(applied=False).exclude(work_order_id__in=fixed)
        if assignment_ids is not None:
            wanted = {int(i) for i in assignment_ids}
            unknown = wanted - set(plan.assignments.values_list("pk", flat=True))
            if unknown:
                raise ValidationFailed(fields={"assignments": [_("Not visits of this plan.")]})
            todo = todo.filter(pk__in=wanted)
        for row in todo.select_related("work_order", "engineer").order_by(
            "engineer_id", "sequence"
        ):
            _apply_one(actor, plan, row, result)
        _close(plan, actor, fixed)
    return result


def _apply_one(actor, plan, row: PlanAssignment, result: Applied) -> None:
    reason = _stale(row.work_order, plan)
    if not reason:
        try:
            services.dispatch(actor=actor, work_order=row.work_order, engineer=row.engineer,
                              via=DispatchVia.OPTIMISE, planned_start=row.start,
                              route_position=row.sequence)  # fmt: skip
        except (ValidationFailed, Conflict, NotFound) as exc:
            reason = str(exc.message)
    if reason:
        result.skipped.append((row, reason))
        return
    PlanAssignment.objects.filter(pk=row.pk).update(applied=True)
    row.applied = True
    result.applied.append(row)


def _close(plan: PlanRun, actor, fixed: set[int]) -> None:
    open_rows = plan.assignments.exclude(work_order_id__in=fixed)
    applied = open_rows.filter(applied=True).count()
    if not applied:
        return
    status = PlanStatus.APPLIED if applied == open_rows.count() else PlanStatus.PARTLY_APPLIED
    PlanRun.objects.filter(pk=plan.pk).update(
        status=status, applied_at=timezone.now(), applied_by=actor
    )
    plan.status = status


# A run is given its time limit plus this long (model building, writing the result)
# before the watchdog calls it lost: its worker died or was killed mid-run.
STALE_GRACE = dt.timedelta(minutes=10)
QUEUED_TOO_LONG = dt.timedelta(hours=1)


def fail_stale_runs(*, now=None) -> int:
    """Beat job: a run whose worker died stays "running" (or "queued" when its message was
    lost) forever; mark it failed so the dispatcher sees it and starts another."""
    now = now or timezone.now()
    failed = 0
    running = PlanRun.objects.filter(status=PlanStatus.RUNNING, started_at__isnull=False)
    for pk, started, limit in running.values_list("pk", "started_at", "time_limit_s"):
        if started + dt.timedelta(seconds=limit) + STALE_GRACE < now:
            failed += PlanRun.objects.filter(pk=pk, status=PlanStatus.RUNNING).update(
                status=PlanStatus.FAILED, finished_at=now,
                error=str(_("The planning job stopped without a result; start the plan again.")),
                message=str(_("The planning job stopped without a result; start the plan again.")),
            )  # fmt: skip
    failed += PlanRun.objects.filter(
        status=PlanStatus.QUEUED, created_at__lt=now - QUEUED_TOO_LONG
    ).update(
        status=PlanStatus.FAILED, finished_at=now,
        error=str(_("No worker picked the plan up; start it again.")),
        message=str(_("No worker picked the plan up; start it again.")),
    )  # fmt: skip
    return failed
