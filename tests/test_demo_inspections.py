"""The inspections demo: 25 routes over the five projects, history with variety, scores
from the real scoring service, rounds ahead from the real generator."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db.models import Avg, Count
from django.utils import timezone

from frontline.demo import loader
from frontline.inspections.models import Anomaly, Reading, Round, Route, Schedule
from frontline.inspections.states import AnomalyStatus, RoundStatus
from frontline.sites.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def played(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        loaded = loader.load(reset=True, desk_days=0, field_days=0, inspection_days=8)
        yield loaded
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


def test_25_routes_over_the_five_projects_each_with_points_items_and_a_schedule(played):
    assert Route.objects.count() == 25
    assert Project.objects.filter(routes__isnull=False).distinct().count() == 5
    for route in Route.objects.annotate(n=Count("checkpoints")):
        assert route.n >= 2, route
        assert route.checkpoints.filter(items__isnull=True).count() == 0
        assert Schedule.objects.filter(route=route).count() == 1


def test_history_has_variety_and_every_completed_round_a_score(played):
    statuses = Counter(Round.objects.values_list("status", flat=True))
    assert statuses[RoundStatus.COMPLETED] > 200
    assert statuses[RoundStatus.MISSED] > 0
    done = Round.objects.filter(status=RoundStatus.COMPLETED)
    assert not done.filter(quality_score__isnull=True).exists()
    assert Reading.objects.count() > 5000
    assert Reading.objects.filter(is_abnormal=True).exists()


def test_steady_routes_score_above_poor_ones(played):
    def avg(code):
        done = Round.objects.filter(status=RoundStatus.COMPLETED, route__code=code)
        return done.aggregate(a=Avg("quality_score"))["a"]

    # 张江 CEA is steady; the Suzhou plant's CEA is poor.
    assert avg("CEA-ZJ") > 85
    assert avg("CEA-ZJ") > avg("CEA-SIP") + 5


def test_anomalies_raised_handled_and_open_ones_followed_up(played):
    assert Anomaly.objects.filter(status=AnomalyStatus.HANDLED).exists()
    assert Anomaly.objects.filter(status=AnomalyStatus.OPEN).exists()
    assert (
        played.inspections.follow_ups
        == Anomaly.objects.exclude(work_order__isnull=True, ticket__isnull=True).count()
    )


def test_rounds_ahead_come_from_the_generator_and_the_demo_engineer_has_work(played):
    now = timezone.now()
    assert Round.objects.filter(window_start__gt=now, status=RoundStatus.SCHEDULED).exists()
    today = Round.objects.filter(
        assignee__email="engineer@example.com",
        window_end__gt=now,
        window_start__lt=now + dt.timedelta(hours=12),
    )
    assert today.exists()


def test_history_scores_match_the_scoring_service_reading_the_rows_back(played):
    # Rounds without abnormal readings: their anomalies part does not depend on what the
    # follow-ups did later, so the service reading the database must agree exactly.
    from frontline.inspections import quality

    clean = (
        Round.objects.filter(status=RoundStatus.COMPLETED)
        .exclude(visits__readings__is_abnormal=True)
        .select_related("route__quality_scheme")
        .order_by("id")[:40]
    )
    assert len(clean) == 40
    for r in clean:
        assert quality.score_round(r)[0] == r.quality_score, r
