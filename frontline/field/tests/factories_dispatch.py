"""Factories for dispatch tests (rules, board, planning): rules and queue orders."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from frontline.field.models import DispatchRule, WorkOrderSkill
from frontline.field.states import RuleMode
from frontline.field.tests.factories import WorkOrderFactory


def rule(*, name="规则", position=None, mode=RuleMode.ASSIGN, engineers=(), **values):
    """A dispatch rule straight in the table (tests of the services use the services)."""
    if position is None:
        last = DispatchRule.objects.order_by("-position").values_list("position", flat=True)
        position = (last.first() or 0) + 10
    made = DispatchRule.objects.create(name=name, position=position, mode=mode, **values)
    made.engineers.set(engineers)
    return made


def today_at(hour: int, minute: int = 0, *, day=None) -> dt.datetime:
    day = day or timezone.localdate()
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def queue_order(*, skills=None, window=None, day=None, **kw):
    """A new work order; ``skills`` = {Skill: min level}; ``window`` = (from hour, to hour)."""
    if window is not None:
        kw["window_start"] = today_at(window[0], day=day)
        kw["window_end"] = today_at(window[1], day=day)
    wo = WorkOrderFactory(**kw)
    for skill, level in (skills or {}).items():
        WorkOrderSkill.objects.create(work_order=wo, skill=skill, min_level=level)
    return wo
