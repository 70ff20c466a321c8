"""The round pages: the filtered list, one round with its visits, readings and quality
score, and the analyst's adjustment. Customers read their own projects' rounds; another
customer's are a 404; people who may not review quality cannot adjust (403, unchanged)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from frontline.field.tests.factories import WorkOrderFactory
from frontline.inspections.models import Anomaly, PointVisit, Reading, Round
from frontline.inspections.states import (
    AnomalySource,
    RoundStatus,
    SkipReason,
    VisitStatus,
)
from frontline.inspections.tests import factories as fi

pytestmark = pytest.mark.django_db

LIST_MAX = 14
DETAIL_MAX = 22

PARTS = {
    "coverage": {"score": 0.5, "weight": 40, "detail": {"visited": 1, "planned": 3, "skipped": 1}},
    "timeliness": {"score": 1, "weight": 20,
                   "detail": {"started_on_time": True, "finished_on_time": True}},
    "anomalies": {"score": 1, "weight": 15, "detail": {"abnormal": 1, "reported": 1}},
    "pace": {"score": 0, "weight": 15, "detail": {"visits": 1, "gaps": 0, "plausible": 0}},
    "photos": {"score": 1, "weight": 10, "detail": {"required": 0, "with_photo": 0}},
}  # fmt: skip


def completed_round(route, engineer, *, score="77.00", anomaly=True):
    """A completed round of ``route``: P01 visited with one abnormal reading, P02 skipped."""
    now = timezone.now()
    rnd = fi.round_for(
        route, engineer, opens=now - dt.timedelta(hours=2), status=RoundStatus.COMPLETED,
        started_at=now - dt.timedelta(minutes=100), finished_at=now - dt.timedelta(minutes=60),
        points_visited=1, points_skipped=1, quality_computed=Decimal(score),
        quality_score=Decimal(score), quality_parts=PARTS,
    )  # fmt: skip
    p1, p2 = route.checkpoints.order_by("position")[:2]
    visit = PointVisit.objects.create(
        round=rnd, checkpoint=p1, started_at=now - dt.timedelta(minutes=95),
        recorded_at=now - dt.timedelta(minutes=92), by=engineer, scanned=True,
    )  # fmt: skip
    items = list(p1.items.order_by("position"))
    Reading.objects.create(visit=visit, item=items[0], number=Decimal("18.5"), is_abnormal=True)
    Reading.objects.create(visit=visit, item=items[1], number=Decimal("0.4"))
    Reading.objects.create(visit=visit, item=items[2], answer=False)
    PointVisit.objects.create(
        round=rnd, checkpoint=p2, status=VisitStatus.SKIPPED, skip_reason=SkipReason.NO_ACCESS,
        note="门锁了", recorded_at=now - dt.timedelta(minutes=80), by=engineer,
    )  # fmt: skip
    if not anomaly:
        return rnd
    Anomaly.objects.create(
        route=route, project=route.project, customer=route.project.customer, checkpoint=p1,
        item=items[0], round=rnd, visit=visit, source=AnomalySource.OUT_OF_RANGE,
        value="18.5", raised_at=now, last_seen_at=now, raised_by=engineer,
        work_order=WorkOrderFactory(customer=route.project.customer),
    )  # fmt: skip
    return rnd


@pytest.fixture
def route_a(cast):
    return fi.route(customer=cast.customer_a, points=3)


@pytest.fixture
def done(cast, route_a):
    return completed_round(route_a, cast.engineer)


# ---------------------------------------------------------------- list


@pytest.mark.parametrize("role", ["manager", "analyst", "dispatcher", "customer_a_user"])
def test_the_list_shows_rounds_in_a_bounded_number_of_queries(
    client, cast, route_a, django_assert_max_num_queries, role
):
    # Given ten rounds on two routes of customer A
    other = fi.route(customer=cast.customer_a, points=1)
    for _ in range(5):
        completed_round(route_a, cast.engineer, anomaly=False)
        fi.round_for(other, cast.engineer)
    client.force_login(cast.by_role(role))

    # When they open the round list
    with django_assert_max_num_queries(LIST_MAX):
        response = client.get(reverse("inspections:round-list"))

    # Then every round is listed
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="round-row"') == 10


def test_the_list_filters_by_route_status_day_and_engineer(client, cast, route_a, done):
    # Given a completed round on route A and a scheduled one on another route
    other = fi.route(customer=cast.customer_a, points=1)
    waiting = fi.round_for(other)
    client.force_login(cast.manager)
    url = reverse("inspections:round-list")

    def ids(**params):
        body = client.get(url, params).content.decode()
        return {r.pk for r in (done, waiting) if f'data-round-id="{r.pk}"' in body}

    # Then each filter narrows the list
    assert ids(route=route_a.pk) == {done.pk}
    assert ids(status="scheduled") == {waiting.pk}
    assert ids(assignee=cast.engineer.pk) == {done.pk}
    assert ids(project=other.project_id) == {waiting.pk}
    assert ids(day=timezone.localdate(done.window_start).isoformat()) >= {done.pk}
    assert ids(day="2001-01-01") == set()
    # ... and an invalid filter shows nothing rather than everything
    assert ids(route="nope") == set()


def test_customer_b_sees_none_of_customer_a_s_rounds(client, cast, done):
    client.force_login(cast.customer_b_admin)

    body = client.get(reverse("inspections:round-list")).content.decode()
    detail = client.get(done.get_absolute_url())

    assert 'data-testid="round-row"' not in body
    assert detail.status_code == 404


@pytest.mark.parametrize("role", ["outsider", "partner_admin", "supplier_contact"])
def test_people_without_inspections_get_404(client, cast, done, role):
    client.force_login(cast.by_role(role))

    assert client.get(reverse("inspections:round-list")).status_code == 404
    assert client.get(done.get_absolute_url()).status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client, done):
    response = client.get(done.get_absolute_url())
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# ---------------------------------------------------------------- detail


def test_the_round_page_shows_visits_readings_skips_anomalies_and_score_parts(
    client, cast, done, django_assert_max_num_queries
):
    client.force_login(cast.analyst)

    with django_assert_max_num_queries(DETAIL_MAX):
        response = client.get(done.get_absolute_url())

    body = response.content.decode()
    assert response.status_code == 200
    # visits in order with their readings, the abnormal one highlighted
    assert body.count('data-testid="visit"') == 1
    assert body.count('data-abnormal="1"') == 1
    assert "18.5" in body
    # the skipped point and its reason
    assert "门锁了" in body and str(SkipReason.NO_ACCESS.label) in body
    # the anomaly with its work order
    assert 'data-testid="round-anomaly"' in body
    assert 'data-testid="follow-up-work-order"' in body
    # the quality parts, and the adjustment form for the analyst
    assert body.count('data-testid="quality-part"') == 5
    assert 'data-testid="adjust-form"' in body
    assert "1 of 3 visited, 1 skipped" in body


def test_a_customer_reads_its_round_without_any_action(client, cast, done):
    client.force_login(cast.customer_a_user)

    body = client.get(done.get_absolute_url()).content.decode()

    assert 'data-testid="quality-part"' in body
    assert 'data-testid="adjust-form"' not in body
    assert 'data-testid="cancel-form"' not in body


def test_an_analyst_adjusts_the_score_with_a_reason(client, cast, done):
    # Given the analyst on a completed round
    client.force_login(cast.analyst)
    url = reverse("inspections:round-adjust-score", args=[done.pk])

    # When they adjust without a reason, nothing changes
    response = client.post(url, {"adjust-score": "60"})
    assert response.status_code == 400
    done.refresh_from_db()
    assert done.quality_score == Decimal("77.00")

    # When they give one
    response = client.post(url, {"adjust-score": "60", "adjust-reason": "照片造假"})

    # Then the score is adjusted and the page shows computed vs adjusted and why
    assert response.status_code == 302
    done.refresh_from_db()
    assert done.quality_score == Decimal("60")
    assert done.quality_computed == Decimal("77.00")
    assert done.quality_adjust_reason == "照片造假"
    body = client.get(done.get_absolute_url()).content.decode()
    assert 'data-testid="adjustment"' in body and "照片造假" in body
    assert 'data-testid="quality-computed"' in body


@pytest.mark.parametrize("role", ["engineer", "dispatcher", "customer_a_admin"])
def test_people_who_do_not_review_quality_cannot_adjust(client, cast, done, role):
    client.force_login(cast.by_role(role))

    response = client.post(
        reverse("inspections:round-adjust-score", args=[done.pk]),
        {"adjust-score": "10", "adjust-reason": "x"},
    )

    assert response.status_code == 403
    done.refresh_from_db()
    assert done.quality_score == Decimal("77.00")


def test_customer_b_cannot_adjust_customer_a_s_round(client, cast, done):
    client.force_login(cast.customer_b_admin)

    response = client.post(
        reverse("inspections:round-adjust-score", args=[done.pk]),
        {"adjust-score": "10", "adjust-reason": "x"},
    )

    assert response.status_code == 404
    done.refresh_from_db()
    assert done.quality_score == Decimal("77.00")


def test_a_manager_cancels_an_open_round_with_a_reason(client, cast, route_a):
    rnd = fi.round_for(route_a, cast.engineer)
    client.force_login(cast.manager)
    assert 'data-testid="cancel-form"' in client.get(rnd.get_absolute_url()).content.decode()

    response = client.post(
        reverse("inspections:round-cancel", args=[rnd.pk]), {"cancel-reason": "停机检修"}
    )

    assert response.status_code == 302
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.CANCELLED


def test_an_engineer_cannot_cancel_a_round(client, cast, route_a):
    rnd = fi.round_for(route_a, cast.engineer)
    client.force_login(cast.engineer)

    response = client.post(
        reverse("inspections:round-cancel", args=[rnd.pk]), {"cancel-reason": "不想去"}
    )

    assert response.status_code == 403
    assert Round.objects.get(pk=rnd.pk).status == RoundStatus.SCHEDULED


def test_a_filter_from_htmx_answers_with_the_table_only(client, cast, done):
    client.force_login(cast.manager)

    response = client.get(
        reverse("inspections:round-list"), {"status": "completed"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'data-testid="round-table"' in body
    assert f'data-round-id="{done.pk}"' in body


def test_the_adjustment_shows_in_the_round_s_history_for_auditors(client, cast, done):
    client.force_login(cast.analyst)
    client.post(
        reverse("inspections:round-adjust-score", args=[done.pk]),
        {"adjust-score": "65", "adjust-reason": "漏检两点"},
    )
    client.force_login(cast.admin)

    body = client.get(done.get_absolute_url()).content.decode()

    history = body.split('data-testid="audit"')[1]
    assert "adjust_score" in history and "<del>77.00</del>" in history and "65.00" in history
