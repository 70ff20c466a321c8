"""Factories for inspections: a route with checkpoints and items, schedules and rounds.

``route(customer=cast.customer_a)`` gives a ready route at a site of that customer, with
``points`` checkpoints each carrying the items in ``items`` (default: two numbers with a
normal range and a yes/no leak check). ``round_for(route, engineer)`` a scheduled round
whose window is open now."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from frontline.inspections.models import (
    CheckItem,
    Checkpoint,
    Round,
    Route,
    Schedule,
)
from frontline.inspections.states import ItemKind, RoundStatus, ScheduleKind
from frontline.testing import factories as f


class RouteFactory(DjangoModelFactory):
    class Meta:
        model = Route

    project = factory.SubFactory(f.ProjectFactory)
    site = factory.LazyAttribute(lambda o: f.SiteFactory(customer=o.project.customer))
    code = factory.Sequence(lambda n: f"CEA{n}")
    name = factory.Sequence(lambda n: f"冷站巡检 {n}")
    expected_minutes = 60


class CheckpointFactory(DjangoModelFactory):
    class Meta:
        model = Checkpoint

    route = factory.SubFactory(RouteFactory)
    position = factory.Sequence(lambda n: n)
    code = factory.Sequence(lambda n: f"P{n:03d}")
    name = factory.Sequence(lambda n: f"{n}# 冷水机组")
    location = "B1 冷站"


class CheckItemFactory(DjangoModelFactory):
    class Meta:
        model = CheckItem

    checkpoint = factory.SubFactory(CheckpointFactory)
    position = factory.Sequence(lambda n: n)
    name = factory.Sequence(lambda n: f"出水温度 {n}")
    kind = ItemKind.NUMBER
    unit = "°C"
    normal_min = Decimal("5")
    normal_max = Decimal("12")


DEFAULT_ITEMS = (
    {"name": "出水温度", "kind": ItemKind.NUMBER, "unit": "°C", "lo": "5", "hi": "12"},
    {"name": "冷却水压力", "kind": ItemKind.NUMBER, "unit": "MPa", "lo": "0.2", "hi": "0.6"},
    {"name": "是否漏水", "kind": ItemKind.YES_NO, "normal_answer": False},
)


def route(*, customer=None, project=None, points=3, items=DEFAULT_ITEMS, **kw) -> Route:
    """A route of ``points`` checkpoints (codes P01, P02, …), each with ``items``."""
    if project is None:
        project = f.ProjectFactory(customer=customer) if customer else f.ProjectFactory()
    r = RouteFactory(project=project, **kw)
    for i in range(1, points + 1):
        cp = CheckpointFactory(route=r, position=i, code=f"P{i:02d}", name=f"{i}# 冷水机组")
        for j, spec in enumerate(items):
            CheckItem.objects.create(
                checkpoint=cp,
                position=j,
                name=spec["name"],
                kind=spec["kind"],
                unit=spec.get("unit", ""),
                normal_min=Decimal(spec["lo"]) if "lo" in spec else None,
                normal_max=Decimal(spec["hi"]) if "hi" in spec else None,
                choices=list(spec.get("choices", [])),
                abnormal_choices=list(spec.get("abnormal_choices", [])),
                normal_answer=spec.get("normal_answer", True),
                photo_required=spec.get("photo_required", False),
            )
    return r


class ScheduleFactory(DjangoModelFactory):
    class Meta:
        model = Schedule

    route = factory.SubFactory(RouteFactory)
    kind = ScheduleKind.DAILY
    times = factory.LazyFunction(lambda: ["08:00", "20:00"])
    window_minutes = 120
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=1))


def round_for(route_, assignee=None, *, opens=None, minutes=120, **kw) -> Round:
    """A scheduled round of ``route_`` whose window opened ``opens`` (default 10 minutes
    ago) and lasts ``minutes``; ``points_planned`` counts the active checkpoints."""
    start = opens or timezone.now() - dt.timedelta(minutes=10)
    return Round.objects.create(
        route=route_,
        project=route_.project,
        customer=route_.project.customer,
        window_start=start,
        window_end=start + dt.timedelta(minutes=minutes),
        assignee=assignee,
        status=kw.pop("status", RoundStatus.SCHEDULED),
        points_planned=route_.checkpoints.filter(is_active=True).count(),
        **kw,
    )
