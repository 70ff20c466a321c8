"""A work-order SOP's KPIs against the work orders of its type: first-time fix, on time,
CSAT, over the last 30 days, scoped to what the viewer may see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from frontline.field.models import Survey
from frontline.field.tests.factories import WorkOrderFactory
from frontline.inspections import sop_actuals, sops
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def repair_sop(cast):
    sop = sops.create_sop(
        actor=cast.manager, code="SOP-REP", title="维修规范", work_order_type="repair"
    )
    return sops.publish_sop_version(
        actor=cast.manager,
        sop=sop,
        kpis=[
            {
                "kind": "result",
                "metric": "first_time_fix_rate",
                "comparator": "gte",
                "target": "0.8",
            },
            {"kind": "result", "metric": "csat_avg", "comparator": "gte", "target": "4.5"},
            {"kind": "process", "metric": "on_time_rate", "comparator": "gte", "target": "0.9"},
        ],
    )


def done(customer, *, ftf, on_time=True, days_ago=1, type="repair", csat=None):
    now = timezone.now() - dt.timedelta(days=days_ago)
    wo = WorkOrderFactory(
        site=f.SiteFactory(customer=customer),
        type=type,
        status="completed",
        completed_at=now,
        first_time_fix=ftf,
        window_start=now - dt.timedelta(hours=4),
        window_end=now - dt.timedelta(hours=1),
        checked_in_at=now - dt.timedelta(hours=2 if on_time else 0),
    )
    if csat is not None:
        Survey.objects.create(work_order=wo, csat=csat, nps=9)
    return wo


def test_kpis_are_judged_on_the_orders_of_the_sops_type_in_the_period(cast, repair_sop):
    # Given two repairs this month (one fixed first time, one on time, CSAT 5 and 4),
    # a repair outside the period and an installation (neither counts)
    done(cast.customer_a, ftf=True, on_time=True, csat=5)
    done(cast.customer_b, ftf=False, on_time=False, csat=4)
    done(cast.customer_a, ftf=False, days_ago=40)
    done(cast.customer_a, ftf=False, type="install")

    judged = sop_actuals.judge_work_order_sop(user=cast.manager, version=repair_sop)

    assert judged["completed"] == 2
    by_metric = {row["kpi"].metric: (row["actual"], row["met"]) for row in judged["kpis"]}
    assert by_metric["first_time_fix_rate"] == (0.5, False)
    assert by_metric["csat_avg"] == (4.5, True)
    assert by_metric["on_time_rate"] == (0.5, False)


def test_no_orders_means_no_data_not_a_failure(cast, repair_sop):
    judged = sop_actuals.judge_work_order_sop(user=cast.manager, version=repair_sop)
    assert judged["completed"] == 0
    assert {row["met"] for row in judged["kpis"]} == {None}


def test_the_sop_page_shows_the_latest_version_against_the_actuals(cast, repair_sop, client):
    done(cast.customer_a, ftf=True, csat=5)
    client.force_login(cast.manager)
    html = client.get(reverse("inspections:sop-detail", args=[repair_sop.sop.pk])).content.decode()
    assert 'data-testid="sop-actuals"' in html
    assert 'data-met="yes"' in html and "100.0 %" in html
    assert Decimal("0.8") == repair_sop.kpis.get(metric="first_time_fix_rate").target


def test_a_route_sop_page_has_no_work_order_actuals(cast, client):
    sop = sops.create_sop(actor=cast.manager, code="SOP-R", title="冷站巡检")
    sops.publish_sop_version(actor=cast.manager, sop=sop)
    client.force_login(cast.manager)
    html = client.get(reverse("inspections:sop-detail", args=[sop.pk])).content.decode()
    assert 'data-testid="sop-actuals"' not in html
