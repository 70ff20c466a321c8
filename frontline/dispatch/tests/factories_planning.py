"""A small planning day for the API and page tests (tomorrow, so 'now' never clips shifts)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from frontline.dispatch import planning
from frontline.field.models import Shift
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_dispatch import queue_order
from frontline.testing import factories as f

TOMORROW = timezone.localdate() + dt.timedelta(days=1)


def small_day(cast, orders=4):
    """Two HVAC engineers 08:00–18:00 tomorrow and ``orders`` HVAC orders around Pudong."""
    hvac = f.SkillFactory(code="hvac", name="暖通")
    crew = [engineer(user=cast.engineer, skills={hvac: 3}, at=(31.22, 121.47)),
            engineer(skills={hvac: 2}, at=(31.25, 121.52))]  # fmt: skip
    for user in crew:
        Shift.objects.create(user=user, date=TOMORROW, start=dt.time(8), end=dt.time(18))
    made = []
    for i in range(orders):
        site = f.SiteFactory(customer=cast.customer_a, latitude=f"{31.20 + i / 100:.6f}",
                             longitude=f"{121.48 + i / 100:.6f}")  # fmt: skip
        made.append(queue_order(site=site, window=(9 + i, 13 + i), day=TOMORROW,
                                skills={hvac: 1}, estimated_minutes=40))  # fmt: skip
    return crew, made


def planned(cast, capture, **kw):
    """A finished plan of the small day (the task runs on commit, eagerly)."""
    kw.setdefault("time_limit_s", 1)
    with capture(execute=True):
        plan = planning.start_plan(actor=cast.dispatcher, day=TOMORROW, **kw)
    plan.refresh_from_db()
    return plan
