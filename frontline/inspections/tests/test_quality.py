"""The quality score, part by part, and a reviewer's adjustment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.inspections import quality
from frontline.inspections.models import Anomaly, PointVisit, QualityScheme, Reading
from frontline.inspections.states import AnomalyAction, ItemKind, RoundStatus
from frontline.inspections.tests import factories as fi

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)


@pytest.fixture
def route(cast):
    return fi.route(customer=cast.customer_a, points=4, anomaly_action=AnomalyAction.NONE)


def done_round(route, engineer, *, start=0, finish=60, window=120):
    return fi.round_for(
        route,
        engineer,
        opens=T0,
        minutes=window,
        status=RoundStatus.COMPLETED,
        started_at=T0 + dt.timedelta(minutes=start),
        finished_at=T0 + dt.timedelta(minutes=finish),
    )


def visit(r, code, minute, status="visited"):
    cp = r.route.checkpoints.get(code=code)
    return PointVisit.objects.create(
        round=r, checkpoint=cp, status=status, recorded_at=T0 + dt.timedelta(minutes=minute)
    )


def test_coverage(route, cast):
    r = done_round(route, cast.engineer)
    r.points_visited = 3
    assert quality.coverage_part(r)[0] == 0.75
    r.points_planned = 0
    assert quality.coverage_part(r)[0] == 1.0


@pytest.mark.parametrize(
    "start,finish,expected",
    [(0, 60, 1.0), (-3, 60, 1.0), (-30, 60, 0.5), (10, 150, 0.5), (-30, 150, 0.0), (130, 140, 0.0)],
)
def test_timeliness(route, cast, start, finish, expected):
    r = done_round(route, cast.engineer, start=start, finish=finish)
    assert quality.timeliness_part(r)[0] == expected


def test_pace(route, cast):
    r = done_round(route, cast.engineer)
    for code, minute in (("P01", 1), ("P02", 5), ("P03", 5.1), ("P04", 9)):
        visit(r, code, minute)
    # gaps 4 min, 6 s, 3.9 min with a 30 s minimum → 2 of 3 plausible
    part, detail = quality.pace_part(r, 30)
    assert part == pytest.approx(2 / 3) and detail["plausible"] == 2
    assert quality.pace_part(done_round(route, cast.engineer), 30)[0] == 0.0


def test_anomalies_part(cast):
    route = fi.route(customer=cast.customer_a, points=2, anomaly_action=AnomalyAction.WORK_ORDER)
    r = done_round(route, cast.engineer)
    assert quality.anomalies_part(r)[0] == 1.0  # nothing abnormal
    v1, v2 = visit(r, "P01", 1), visit(r, "P02", 5)
    t1 = v1.checkpoint.items.get(name="出水温度")
    t2 = v2.checkpoint.items.get(name="出水温度")
    Reading.objects.create(visit=v1, item=t1, number=20, is_abnormal=True)
    Reading.objects.create(visit=v2, item=t2, number=20, is_abnormal=True)
    now = timezone.now()
    a = Anomaly.objects.create(
        route=route,
        project=route.project,
        customer=r.customer,
        checkpoint=v1.checkpoint,
        item=t1,
        round=r,
        visit=v1,
        source="out_of_range",
        raised_at=now,
        last_seen_at=now,
    )
    # raised but the route's rule wants a follow-up that is missing → not counted
    assert quality.anomalies_part(r)[0] == 0.0
    a.status = "confirmed"
    a.save()
    assert quality.anomalies_part(r)[0] == 0.5


def test_photos_part(cast):
    route = fi.route(
        customer=cast.customer_a,
        points=2,
        anomaly_action=AnomalyAction.NONE,
        items=({"name": "铭牌照片", "kind": ItemKind.PHOTO, "photo_required": True},),
    )
    r = done_round(route, cast.engineer)
    assert quality.photos_part(r)[0] == 1.0
    v1, v2 = visit(r, "P01", 1), visit(r, "P02", 5)
    Reading.objects.create(visit=v1, item=v1.checkpoint.items.get(), photo="inspections/photos/x")
    Reading.objects.create(visit=v2, item=v2.checkpoint.items.get())
    assert quality.photos_part(r)[0] == 0.5


def test_weighted_score_with_a_scheme(cast):
    # Given a scheme weighing only coverage 3 and timeliness 1
    scheme = QualityScheme.objects.create(
        name="严格",
        coverage_weight=3,
        timeliness_weight=1,
        anomalies_weight=0,
        pace_weight=0,
        photos_weight=0,
    )
    route = fi.route(customer=cast.customer_a, points=4, quality_scheme=scheme)
    r = done_round(route, cast.engineer, start=-30, finish=60)  # timeliness 0.5
    r.points_visited = 2  # coverage 0.5
    score, parts = quality.score_round(r)
    # Then 100 × (3×0.5 + 1×0.5) / 4
    assert score == Decimal("50.00")
    assert parts["coverage"] == {
        "score": 0.5,
        "weight": 3,
        "detail": {"visited": 2, "planned": 4, "skipped": 0},
    }
    assert parts["photos"]["weight"] == 0


def test_default_scheme(route):
    s = quality.scheme_for(route)
    assert s.pk is None and s.total_weight == 100 and s.standard == 80


def test_adjust_score(cast, route):
    r = done_round(route, cast.engineer)
    r.quality_computed = r.quality_score = Decimal("72.50")
    r.save()
    with pytest.raises(PermissionDenied):
        quality.adjust_score(actor=cast.engineer, round=r, score=90, reason="x")
    with pytest.raises(PermissionDenied):
        quality.adjust_score(actor=cast.dispatcher, round=r, score=90, reason="x")
    for bad in (101, -1, "abc", True, "NaN"):
        with pytest.raises(ValidationFailed):
            quality.adjust_score(actor=cast.analyst, round=r, score=bad, reason="x")
    with pytest.raises(ValidationFailed):
        quality.adjust_score(actor=cast.analyst, round=r, score=90, reason=" ")
    r.refresh_from_db()
    assert r.quality_score == Decimal("72.50")
    done = quality.adjust_score(actor=cast.analyst, round=r, score="88.5", reason="照片补传")
    assert done.quality_score == Decimal("88.50") and done.quality_computed == Decimal("72.50")
    assert done.quality_adjusted_by_id == cast.analyst.pk
    entry = AuditEntry.objects.get(verb="adjust_score")
    assert entry.changes["quality_score"] == ["72.50", "88.50"]


def test_adjust_needs_a_completed_round(cast, route):
    r = fi.round_for(route, cast.engineer)
    with pytest.raises(Conflict):
        quality.adjust_score(actor=cast.manager, round=r, score=90, reason="x")
