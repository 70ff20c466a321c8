"""Random small days in the database: whatever the mix of skills, certifications, shifts,
leave, windows and committed visits, the plan passes the optimiser's independent
validator and, read back from the database, breaks no skill, window or shift."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from frontline.dispatch import planning
from frontline.dispatch.models import PlanStatus
from frontline.dispatch.optimiser import validate
from frontline.dispatch.tests.factories_planning import TOMORROW
from frontline.field import services
from frontline.field.engineers import effective_skills
from frontline.field.models import Leave, Shift
from frontline.field.states import Priority
from frontline.field.tests.factories import certify, engineer
from frontline.field.tests.factories_dispatch import queue_order, today_at
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def _random_day(cast, rnd: random.Random):
    skills = [f.SkillFactory(code=f"s{i}", requires_certification=(i == 2)) for i in range(3)]
    crew = []
    for _ in range(4):
        held = {s: rnd.randint(1, 3) for s in rnd.sample(skills, rnd.randint(1, 3))}
        user = engineer(skills=held, at=(31.1 + rnd.random() / 5, 121.3 + rnd.random() / 5))
        if skills[2] in held:
            certify(user, skills[2], expires_in_days=rnd.choice([-5, 400]))
        Shift.objects.create(user=user, date=TOMORROW, start=dt.time(rnd.randint(7, 10)),
                             end=dt.time(rnd.randint(15, 19)))  # fmt: skip
        crew.append(user)
    Leave.objects.create(user=crew[-1], first_day=TOMORROW, last_day=TOMORROW)
    orders = []
    for _ in range(14):
        site = f.SiteFactory(customer=cast.customer_a, latitude=f"{31.1 + rnd.random() / 5:.6f}",
                             longitude=f"{121.3 + rnd.random() / 5:.6f}")  # fmt: skip
        start = rnd.randint(8, 15)
        window = rnd.choice([None, (start, start + rnd.randint(1, 4))])
        needs = {s: rnd.randint(1, 2) for s in rnd.sample(skills, rnd.randint(0, 2))}
        orders.append(queue_order(site=site, window=window, day=TOMORROW, skills=needs,
                                  priority=rnd.choice(Priority.values),
                                  estimated_minutes=rnd.choice([30, 45, 60, 90])))  # fmt: skip
    # One visit already committed to the first engineer who may do it
    held = effective_skills([u.pk for u in crew[:-1]], TOMORROW)
    for wo in orders:
        needed = {r.skill_id: r.min_level for r in wo.required_skills.all()}
        who = next((u for u in crew[:-1] if all(held[u.pk].get(s, 0) >= lv
                                                 for s, lv in needed.items())), None)  # fmt: skip
        if who is not None:
            services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=who,
                              planned_start=today_at(11, day=TOMORROW))  # fmt: skip
            break
    return crew


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_days_never_break_the_rules(cast, seed, monkeypatch,
                                           django_capture_on_commit_callbacks):  # fmt: skip
    crew = _random_day(cast, random.Random(seed))
    seen = []
    real = planning.solve

    def spy(problem, **kw):
        seen.append((problem, real(problem, **kw)))
        return seen[-1][1]

    monkeypatch.setattr(planning, "solve", spy)
    with django_capture_on_commit_callbacks(execute=True):
        plan = planning.start_plan(actor=cast.dispatcher, day=TOMORROW, time_limit_s=1)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DONE, plan.error
    ((problem, result),) = seen
    assert validate(problem, result) == []
    assert str(crew[-1].pk) not in {e["id"] for e in plan.problem["engineers"]}  # on leave
    skills = effective_skills([u.pk for u in crew], TOMORROW)
    shifts = {s.user_id: s for s in Shift.objects.filter(date=TOMORROW)}
    for row in plan.assignments.select_related("work_order"):
        wo, shift = row.work_order, shifts[row.engineer_id]
        assert today_at(shift.start.hour, day=TOMORROW) <= row.arrival <= row.start
        assert row.end <= today_at(shift.end.hour, day=TOMORROW)
        if wo.window_start is not None and row.work_order_id not in planning.fixed_order_ids(plan):
            assert wo.window_start <= row.start <= wo.window_end
        needed = {r.skill_id: r.min_level for r in wo.required_skills.all()}
        assert all(skills[row.engineer_id].get(s, 0) >= lv for s, lv in needed.items())
