"""Planning a day from the database: the problem, the run, failures, and applying."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from frontline.accounts.models import DispatchMode
from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.dispatch import planning
from frontline.dispatch.models import PlanAssignment, PlanRun, PlanStatus
from frontline.dispatch.optimiser import ProblemError, parse_problem, validate
from frontline.field import services
from frontline.field.models import Shift, WorkOrder
from frontline.field.states import DispatchVia, WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_dispatch import queue_order, today_at
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
TOMORROW = timezone.localdate() + dt.timedelta(days=1)
SPOTS = [(31.20 + i * 0.01, 121.45 + (i % 4) * 0.02) for i in range(12)]


def _site(cast, i=0, **kw):
    lat, lon = SPOTS[i % len(SPOTS)]
    return f.SiteFactory(customer=cast.customer_a, latitude=f"{lat:.6f}", longitude=f"{lon:.6f}",
                         **kw)  # fmt: skip


def _order(cast, i=0, *, window=(9, 17), **kw):
    return queue_order(site=_site(cast, i), window=window, day=TOMORROW, **kw)


def _run(django_capture_on_commit_callbacks, actor, **kw) -> PlanRun:
    kw.setdefault("time_limit_s", 1)
    with django_capture_on_commit_callbacks(execute=True):
        plan = planning.start_plan(actor=actor, day=TOMORROW, **kw)
    plan.refresh_from_db()
    return plan


@pytest.fixture
def day(cast):
    """Three engineers working 08:00–18:00 tomorrow; eight orders with skills and windows."""
    hvac, hv = f.SkillFactory(code="hvac", name="暖通"), f.SkillFactory(code="hv", name="高压")
    crew = [
        engineer(user=cast.engineer, skills={hvac: 3}, at=(31.22, 121.47)),
        engineer(skills={hv: 2, hvac: 1}, at=(31.25, 121.50)),
        engineer(skills={hvac: 2}, at=(31.18, 121.44)),
    ]
    for user in crew:
        Shift.objects.create(user=user, date=TOMORROW, start=dt.time(8), end=dt.time(18))
    orders = [
        _order(
            cast,
            i,
            skills={hvac: 2} if i % 2 else {hv: 2},
            window=(9 + i % 4, 12 + i % 4),
            estimated_minutes=45,
        )  # fmt: skip
        for i in range(8)
    ]
    return {"crew": crew, "orders": orders, "hvac": hvac, "hv": hv}


@pytest.fixture
def solved(monkeypatch):
    """Keeps every (problem, plan) the optimiser produced, to validate independently."""
    seen = []
    real = planning.solve

    def spy(problem, **kw):
        plan = real(problem, **kw)
        seen.append((problem, plan))
        return plan

    monkeypatch.setattr(planning, "solve", spy)
    return seen


def test_a_plan_from_the_database_breaks_no_skill_window_or_shift(
    cast, day, solved, django_capture_on_commit_callbacks
):
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    assert plan.status == PlanStatus.DONE, plan.error
    ((problem, result),) = solved
    assert validate(problem, result) == []
    assert validate(parse_problem(plan.problem), result) == []  # the stored input replays
    rows = list(plan.assignments.select_related("work_order"))
    assert len(rows) + len(plan.left_out) == 8
    assert plan.kpis["orders_planned"] == len(rows) and plan.progress == 1.0
    for row in rows:
        wo = row.work_order
        assert wo.window_start <= row.start <= wo.window_end
        assert today_at(8, day=TOMORROW) <= row.arrival <= row.start
        assert row.end <= today_at(18, day=TOMORROW)
        needed = {r.skill_id: r.min_level for r in wo.required_skills.all()}
        held = dict(row.engineer.skills.values_list("skill_id", "level"))
        assert all(held.get(s, 0) >= lvl for s, lvl in needed.items())
    # Nothing is dispatched until the plan is applied
    assert not WorkOrder.objects.exclude(status=WorkOrderStatus.NEW).exists()


def test_what_cannot_be_planned_is_left_out_with_a_reason(
    cast, day, django_capture_on_commit_callbacks
):
    nobody = f.SkillFactory(code="lift", name="电梯")
    _order(cast, 1, skills={nobody: 1}, number="W-NOSKILL")
    queue_order(site=f.SiteFactory(customer=cast.customer_a, latitude=None, longitude=None),
                window=(9, 12), day=TOMORROW, number="W-NOWHERE")  # fmt: skip
    _order(cast, 2, window=(20, 22), number="W-NIGHT")
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    reasons = {item["order_id"]: item["reason"] for item in plan.left_out}
    assert reasons["W-NOSKILL"] == "no qualified engineer"
    assert reasons["W-NOWHERE"] == "the site has no coordinates"
    assert reasons["W-NIGHT"] == "no engineer works during its window"


def test_committed_visits_stay_with_their_engineer(
    cast, day, solved, django_capture_on_commit_callbacks
):
    committed = day["orders"][1]
    services.dispatch(actor=cast.dispatcher, work_order=committed, engineer=cast.engineer,
                      planned_start=today_at(10, day=TOMORROW))  # fmt: skip
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    fixed = [o for o in plan.problem["orders"] if o.get("fixed_engineer")]
    assert [o["work_order"] for o in fixed] == [committed.pk]
    row = plan.assignments.get(work_order=committed)
    assert row.engineer == cast.engineer
    assert planning.fixed_order_ids(plan) == {committed.pk}
    # Applying the plan leaves the committed visit as it was
    planning.apply_plan(actor=cast.dispatcher, plan=plan)
    committed.refresh_from_db()
    assert committed.dispatched_via == DispatchVia.ASSIGN
    assert not PlanAssignment.objects.get(pk=row.pk).applied


def test_only_the_team_is_planned(cast, day, django_capture_on_commit_callbacks):
    team = f.TeamFactory()
    team.members.add(cast.engineer)
    ours = _order(cast, 3, skills={day["hvac"]: 1}, team=team)
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher, team=team)
    assert [e["id"] for e in plan.problem["engineers"]] == [str(cast.engineer.pk)]
    assert [o["work_order"] for o in plan.problem["orders"]] == [ours.pk]


def test_apply_the_whole_plan(cast, day, django_capture_on_commit_callbacks):
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    rows = list(plan.assignments.all())
    result = planning.apply_plan(actor=cast.dispatcher, plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPLIED and plan.applied_by == cast.dispatcher
    assert len(result.applied) == len(rows) and result.skipped == []
    for row in rows:
        wo = WorkOrder.objects.get(pk=row.work_order_id)
        assert (wo.status, wo.assignee_id, wo.dispatched_via) == (
            WorkOrderStatus.DISPATCHED,
            row.engineer_id,
            DispatchVia.OPTIMISE,
        )
        assert (wo.planned_start, wo.route_position) == (row.start, row.sequence)
    with pytest.raises(Conflict):
        planning.apply_plan(actor=cast.dispatcher, plan=plan)


def test_apply_part_then_the_rest_and_skip_what_changed(
    cast, day, django_capture_on_commit_callbacks
):
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    first, taken, moved, *rest = list(plan.assignments.order_by("pk"))
    # Given one order dispatched by hand and one re-appointed since planning
    services.dispatch(actor=cast.dispatcher, work_order=taken.work_order, engineer=taken.engineer)
    services.set_appointment(actor=cast.dispatcher, work_order=moved.work_order,
                             window_start=today_at(13, day=TOMORROW),
                             window_end=today_at(15, day=TOMORROW))  # fmt: skip
    # When only the first visit is applied
    result = planning.apply_plan(actor=cast.dispatcher, plan=plan, assignment_ids=[first.pk])
    plan.refresh_from_db()
    assert [r.pk for r in result.applied] == [first.pk]
    assert plan.status == PlanStatus.PARTLY_APPLIED
    # And then the rest: the two that changed are skipped and reported
    result = planning.apply_plan(actor=cast.dispatcher, plan=plan)
    skipped = {row.pk: reason for row, reason in result.skipped}
    assert skipped == {taken.pk: "it is Dispatched now", moved.pk: "it was changed after planning"}
    assert {r.pk for r in result.applied} == {r.pk for r in rest}
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PARTLY_APPLIED
    moved.work_order.refresh_from_db()
    assert moved.work_order.status == WorkOrderStatus.NEW


def test_apply_refuses_visits_of_another_plan(cast, day, django_capture_on_commit_callbacks):
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    with pytest.raises(ValidationFailed):
        planning.apply_plan(actor=cast.dispatcher, plan=plan, assignment_ids=[999999])
    assert not WorkOrder.objects.exclude(status=WorkOrderStatus.NEW).exists()


@pytest.mark.parametrize("how", ["flag", "team"])
def test_auto_mode_applies_at_the_end(cast, day, how, django_capture_on_commit_callbacks):
    kw = {"auto_apply": True}
    if how == "team":
        team = f.TeamFactory(dispatch_mode=DispatchMode.AUTO)
        team.members.add(*day["crew"])
        WorkOrder.objects.update(team=team)
        kw = {"team": team}
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher, **kw)
    assert plan.status == PlanStatus.APPLIED
    assert WorkOrder.objects.filter(dispatched_via=DispatchVia.OPTIMISE).count() == (
        plan.assignments.count()
    )


def test_an_input_error_fails_the_run_naming_the_order(cast, day, monkeypatch,
                                                      django_capture_on_commit_callbacks):  # fmt: skip
    def broken(data):
        raise ProblemError("W-BAD", "order 'W-BAD': impossible window")

    monkeypatch.setattr(planning, "parse_problem", broken)
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    assert plan.status == PlanStatus.FAILED
    assert plan.error == "The planner cannot use this input: order 'W-BAD': impossible window"
    with pytest.raises(Conflict):
        planning.apply_plan(actor=cast.dispatcher, plan=plan)


def test_a_crash_fails_the_run_cleanly(cast, day, monkeypatch, django_capture_on_commit_callbacks):
    def crash(problem, **kw):
        raise MemoryError

    monkeypatch.setattr(planning, "solve", crash)
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    assert plan.status == PlanStatus.FAILED and "MemoryError" in plan.error


def test_progress_is_reported_on_the_run(
    cast, day, monkeypatch, django_capture_on_commit_callbacks
):
    seen = []
    real = planning.solve

    def slow(problem, *, time_limit, progress):
        progress(0.5, "searching, best cost 42")
        seen.append(PlanRun.objects.values_list("status", "progress", "message").get())
        return real(problem, time_limit=time_limit, progress=progress)

    monkeypatch.setattr(planning, "solve", slow)
    _run(django_capture_on_commit_callbacks, cast.dispatcher)
    assert seen == [(PlanStatus.RUNNING, 0.5, "searching, best cost 42")]


def test_a_run_is_executed_once(cast, day, django_capture_on_commit_callbacks):
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher, time_limit_s=1)
    assert planning.execute(plan.pk) is None


def test_an_empty_queue_makes_an_empty_plan(cast, django_capture_on_commit_callbacks):
    engineer(user=cast.engineer)
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    assert plan.status == PlanStatus.DONE and plan.assignments.count() == 0


@pytest.mark.parametrize("kw", [{"time_limit_s": 0}, {"time_limit_s": 601}, {"time_limit_s": "x"}])
def test_bad_settings_are_refused(cast, kw):
    with pytest.raises(ValidationFailed):
        planning.start_plan(actor=cast.dispatcher, day=TOMORROW, **kw)
    assert not PlanRun.objects.exists()


def test_a_partner_team_is_refused(cast):
    team = f.TeamFactory(organization=cast.partner)
    with pytest.raises(ValidationFailed):
        planning.start_plan(actor=cast.dispatcher, day=TOMORROW, team=team)


@pytest.mark.parametrize("role", ["engineer", "agent", "customer_a_admin", "partner_admin"])
def test_only_dispatchers_plan_and_apply(cast, day, role, django_capture_on_commit_callbacks):
    with pytest.raises(PermissionDenied):
        planning.start_plan(actor=cast.by_role(role), day=TOMORROW)
    assert not PlanRun.objects.exists()
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    with pytest.raises(PermissionDenied):
        planning.apply_plan(actor=cast.by_role(role), plan=plan)
    assert not WorkOrder.objects.exclude(status=WorkOrderStatus.NEW).exists()
    assert PlanRun.objects.get().status == PlanStatus.DONE


def test_a_broker_failure_leaves_the_run_queued_until_the_relay_hands_it_over(
    cast, day, django_capture_on_commit_callbacks
):
    from frontline import jobs
    from frontline.jobs.models import OutboxJob
    from frontline.jobs.testing import CLOSED_BROKER, broker_at

    # Given the broker is down, when a dispatcher starts a plan, the plan waits queued
    with broker_at(CLOSED_BROKER):
        plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    assert plan.status == PlanStatus.QUEUED
    assert OutboxJob.objects.get().status == "pending"
    # and once the broker is back the relay hands it to a worker, which plans it
    assert jobs.relay_pending(now=timezone.now() + dt.timedelta(minutes=1)) == 1
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DONE and OutboxJob.objects.get().status == "done"


def test_a_day_nobody_works_leaves_everything_out(cast, django_capture_on_commit_callbacks):
    _order(cast, 0, number="W-LONELY")
    plan = _run(django_capture_on_commit_callbacks, cast.dispatcher)
    assert plan.status == PlanStatus.DONE and plan.assignments.count() == 0
    assert plan.left_out == [{"order_id": "W-LONELY", "work_order": plan.left_out[0]["work_order"],
                              "reason": "no engineer works during its window"}]  # fmt: skip
