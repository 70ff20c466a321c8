"""A plan whose worker died does not stay "running" forever."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from frontline.dispatch.models import PlanRun, PlanStatus
from frontline.dispatch.planning import fail_stale_runs

pytestmark = pytest.mark.django_db


def test_lost_runs_fail_and_live_ones_are_left_alone():
    now = timezone.now()
    today = timezone.localdate()
    lost = PlanRun.objects.create(day=today, status=PlanStatus.RUNNING, time_limit_s=30,
                                  started_at=now - dt.timedelta(minutes=20))  # fmt: skip
    live = PlanRun.objects.create(day=today, status=PlanStatus.RUNNING, time_limit_s=600,
                                  started_at=now - dt.timedelta(minutes=12))  # fmt: skip
    never = PlanRun.objects.create(day=today, status=PlanStatus.QUEUED)
    PlanRun.objects.filter(pk=never.pk).update(created_at=now - dt.timedelta(hours=2))
    done = PlanRun.objects.create(day=today, status=PlanStatus.DONE,
                                  started_at=now - dt.timedelta(hours=3))  # fmt: skip

    assert fail_stale_runs(now=now) == 2
    assert fail_stale_runs(now=now) == 0
    statuses = dict(PlanRun.objects.values_list("pk", "status"))
    assert statuses[lost.pk] == statuses[never.pk] == PlanStatus.FAILED
    assert statuses[live.pk] == PlanStatus.RUNNING and statuses[done.pk] == PlanStatus.DONE
    assert PlanRun.objects.get(pk=lost.pk).error
