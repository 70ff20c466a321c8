"""The daily route analysis against a fixture whose every figure is computed by hand.

Day D = 2026-03-10 in Asia/Shanghai (UTC+8). Project P1 (customer A):

R1 "CEA", 4 checkpoints (4 points planned per round):
  f  00:00–02:00  completed 00:00–00:30 (30 min, on time: starts exactly at the window)
                  visited 4, quality 80          ← 00:00 local is 16:00 UTC the day before
  a  08:00–10:00  completed 08:10–09:00 (50 min, on time), visited 4, quality 90;
                  anomalies: one handled, one open
  b  14:00–16:00  completed 14:30–16:30 (120 min, LATE: finished after 16:00), visited 3,
                  quality 70; anomalies: one dismissed
  c  20:00–22:00  missed, visited 0
  d  23:00–01:00  in progress (spans midnight: counts on D, its opening day), visited 2
  e  11:00–13:00  CANCELLED (not counted), with a handled anomaly (not counted either)
  outside the range: D-1 23:30 completed (with an anomaly) and D+1 00:00 scheduled.

  scheduled 5 (f a b c d); completed 3 (f a b); on time 2 (f a)
  completion_rate 3/5 = 0.6; on_time_rate 2/5 = 0.4
  points_planned 5 × 4 = 20; points_visited 4+4+3+0+2 = 13; coverage 13/20 = 0.65
  anomalies 3 (a: 2, b: 1); handled 1; handled_rate 1/3 = 0.3333
  minutes_total 30+50+120 = 200; visited by completed rounds 4+4+3 = 11;
  minutes_per_point 200/11 = 18.18
  mean 66.667; deviations −36.667, −16.667, 53.333; Σd² = 4466.67; /3 = 1488.89;
  σ = 38.586; duration_cv = 38.586/66.667 = 0.5788
  quality_avg (80+90+70)/3 = 80.0

R2 "FXB", 2 checkpoints, no anomalies:
  a  09:00–11:00  completed 08:50–09:30 (40 min, NOT on time: started before the window)
                  visited 2, quality 85
  b  15:00–17:00  completed 15:00–15:40 (40 min, on time), visited 2, quality 95
  c  18:00–20:00  completed 18:00–20:00 (120 min, on time: ends exactly at the window's
                  close), visited 1, not scored yet
  scheduled 3; completed 3; on time 2; completion_rate 1.0; on_time_rate 2/3 = 0.6667
  planned 6; visited 5; coverage 5/6 = 0.8333
  anomalies 0; handled 0; handled_rate None (nothing to handle)
  minutes_total 200; per point 200/5 = 40.0
  mean 66.667; deviations −26.667, −26.667, 53.333; Σd² = 4266.67; /3 = 1422.22;
  σ = 37.712; duration_cv 0.5657
  quality_avg over scored rounds only: (85+95)/2 = 90.0

R3 "EMPTY", active, no rounds: zeros; every rate, minutes_per_point, duration_cv and
  quality_avg None; minutes_total 0.0.
R4 inactive, no rounds: not listed.

P1 roll-up (sums, not averages of rates):
  scheduled 8; completed 6; on time 4 → 0.75 and 0.5; planned 26; visited 18 → 0.6923;
  anomalies 3, handled 1 → 0.3333; minutes 400 over 16 points visited by completed
  rounds → 25.0; durations 30 50 120 40 40 120: Σx² = 35400, /6 = 5900, − 66.667² =
  1455.56, σ = 38.152, cv 0.5723; quality (80+90+70+85+95)/5 = 84.0.

Project P2 (customer B): route R5 with one completed round on D.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from frontline.inspections import analysis
from frontline.inspections.models import Anomaly, SopKpi, SopVersion
from frontline.inspections.models.routes import Sop
from frontline.inspections.states import AnomalyStatus, KpiKind, RoundStatus
from frontline.inspections.tests import factories as ifx
from frontline.testing import factories as f

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
D = dt.date(2026, 3, 10)
S = RoundStatus


def at(hh: int, mm: int = 0, day: dt.date = D) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=TZ)


def make_round(route, opens, *, status, started=None, finished=None, visited=0, quality=None):
    return ifx.round_for(
        route,
        opens=opens,
        minutes=120,
        status=status,
        started_at=started,
        finished_at=finished,
        points_visited=visited,
        quality_score=Decimal(quality) if quality is not None else None,
    )


def anomaly(round_, status=AnomalyStatus.OPEN):
    checkpoint = round_.route.checkpoints.order_by("position")[
        Anomaly.objects.filter(route=round_.route).count()
    ]
    return Anomaly.objects.create(
        route=round_.route,
        project=round_.project,
        customer=round_.customer,
        checkpoint=checkpoint,
        round=round_,
        source="reported",
        status=status,
        raised_at=round_.window_start,
        last_seen_at=round_.window_start,
    )


def build(cast, *, r1_name=None):
    """The fixture of the module docstring; returns a dict of its objects."""
    p1 = f.ProjectFactory(customer=cast.customer_a, code="P1", name="一期")
    r1 = ifx.route(project=p1, points=4, code="CEA", **({"name": r1_name} if r1_name else {}))
    r2 = ifx.route(project=p1, points=2, code="FXB")
    r3 = ifx.route(project=p1, points=1, code="EMPTY")
    ifx.route(project=p1, points=1, code="OLD", is_active=False)
    make_round(r1, at(0), status=S.COMPLETED, started=at(0), finished=at(0, 30),
               visited=4, quality=80)  # fmt: skip
    r1a = make_round(r1, at(8), status=S.COMPLETED, started=at(8, 10), finished=at(9),
                     visited=4, quality=90)  # fmt: skip
    r1b = make_round(r1, at(14), status=S.COMPLETED, started=at(14, 30),
                     finished=at(16, 30), visited=3, quality=70)  # fmt: skip
    make_round(r1, at(20), status=S.MISSED)
    make_round(r1, at(23), status=S.IN_PROGRESS, started=at(23, 5), visited=2)
    r1e = make_round(r1, at(11), status=S.CANCELLED)
    before = make_round(r1, at(23, 30, D - dt.timedelta(days=1)), status=S.COMPLETED,
                        started=at(23, 30, D - dt.timedelta(days=1)),
                        finished=at(23, 50, D - dt.timedelta(days=1)), visited=4,
                        quality=10)  # fmt: skip
    make_round(r1, at(0, 0, D + dt.timedelta(days=1)), status=S.SCHEDULED)
    anomaly(r1a, AnomalyStatus.HANDLED)
    anomaly(r1a, AnomalyStatus.OPEN)
    anomaly(r1b, AnomalyStatus.DISMISSED)
    anomaly(r1e, AnomalyStatus.HANDLED)
    Anomaly.objects.create(
        route=r1, project=p1, customer=p1.customer, checkpoint=r1.checkpoints.last(),
        round=before, source="reported", status=AnomalyStatus.HANDLED,
        raised_at=before.window_start, last_seen_at=before.window_start,
    )  # fmt: skip
    make_round(r2, at(9), status=S.COMPLETED, started=at(8, 50), finished=at(9, 30),
               visited=2, quality=85)  # fmt: skip
    make_round(r2, at(15), status=S.COMPLETED, started=at(15), finished=at(15, 40),
               visited=2, quality=95)  # fmt: skip
    make_round(r2, at(18), status=S.COMPLETED, started=at(18), finished=at(20), visited=1)
    p2 = f.ProjectFactory(customer=cast.customer_b, code="P2", name="二期")
    r5 = ifx.route(project=p2, points=1, code="B-ONLY")
    make_round(r5, at(9), status=S.COMPLETED, started=at(9), finished=at(9, 20), visited=1,
               quality=60)  # fmt: skip
    return {"p1": p1, "p2": p2, "r1": r1, "r2": r2, "r3": r3, "r5": r5, "r1a": r1a}


EXPECTED = {
    "CEA": {
        "scheduled_rounds": 5, "completed_rounds": 3, "on_time_rounds": 2,
        "completion_rate": 0.6, "on_time_rate": 0.4,
        "points_planned": 20, "points_visited": 13, "coverage": 0.65,
        "anomalies": 3, "anomalies_handled": 1, "handled_rate": 0.3333,
        "minutes_total": 200.0, "minutes_per_point": 18.18, "duration_cv": 0.5788,
        "quality_avg": 80.0,
    },
    "FXB": {
        "scheduled_rounds": 3, "completed_rounds": 3, "on_time_rounds": 2,
        "completion_rate": 1.0, "on_time_rate": 0.6667,
        "points_planned": 6, "points_visited": 5, "coverage": 0.8333,
        "anomalies": 0, "anomalies_handled": 0, "handled_rate": None,
        "minutes_total": 200.0, "minutes_per_point": 40.0, "duration_cv": 0.5657,
        "quality_avg": 90.0,
    },
    "EMPTY": {
        "scheduled_rounds": 0, "completed_rounds": 0, "on_time_rounds": 0,
        "completion_rate": None, "on_time_rate": None,
        "points_planned": 0, "points_visited": 0, "coverage": None,
        "anomalies": 0, "anomalies_handled": 0, "handled_rate": None,
        "minutes_total": 0.0, "minutes_per_point": None, "duration_cv": None,
        "quality_avg": None,
    },
}  # fmt: skip

P1_ROLLUP = {
    "scheduled_rounds": 8, "completed_rounds": 6, "on_time_rounds": 4,
    "completion_rate": 0.75, "on_time_rate": 0.5,
    "points_planned": 26, "points_visited": 18, "coverage": 0.6923,
    "anomalies": 3, "anomalies_handled": 1, "handled_rate": 0.3333,
    "minutes_total": 400.0, "minutes_per_point": 25.0, "duration_cv": 0.5723,
    "quality_avg": 84.0,
}  # fmt: skip


def close(actual: dict, expected: dict) -> None:
    for key, value in expected.items():
        if value is None:
            assert actual[key] is None, key
        else:
            assert actual[key] == pytest.approx(value, abs=1e-4), key


@pytest.fixture
def world(cast):
    return build(cast)


def test_every_field_of_every_route_matches_the_hand_computed_figures(cast, world):
    # when
    rows = analysis.route_analysis(user=cast.manager, date_from=D, date_to=D)
    # then: P1's three active routes (not the inactive one), then P2's
    assert [r["route_code"] for r in rows] == ["CEA", "EMPTY", "FXB", "B-ONLY"]
    by_code = {r["route_code"]: r for r in rows}
    for code, expected in EXPECTED.items():
        row = by_code[code]
        assert set(row) == set(analysis.IDENTITY) | set(analysis.FIELDS)
        close(row, expected)
    assert by_code["CEA"]["project_code"] == "P1"
    assert by_code["CEA"]["route_id"] == world["r1"].pk


def test_project_rollup_adds_sums_instead_of_averaging_rates(cast, world):
    rows = analysis.route_analysis(user=cast.manager, date_from=D, date_to=D)
    # when
    projects = analysis.project_rollup(rows)
    # then
    p1 = next(p for p in projects if p["project_code"] == "P1")
    close(p1, P1_ROLLUP)
    assert [r["route_code"] for r in p1["routes"]] == ["CEA", "EMPTY", "FXB"]
    # the mean of the routes' completion rates would be 0.8, not 6/8
    assert p1["completion_rate"] == 0.75


def test_the_range_is_local_days_with_the_end_inclusive(cast, world):
    # given the day before D holds one completed round (23:30 local, 15:30 UTC)
    # when
    rows = analysis.route_analysis(
        user=cast.manager, date_from=D - dt.timedelta(days=1), date_to=D, project=world["p1"]
    )
    # then it joins D's five, with its anomaly, and the next day's round stays out
    cea = next(r for r in rows if r["route_code"] == "CEA")
    assert cea["scheduled_rounds"] == 6
    assert cea["completed_rounds"] == 4
    assert cea["anomalies"] == 4
    assert cea["anomalies_handled"] == 2
    # and a range that is only the next day sees the scheduled round just after midnight
    nxt = analysis.route_analysis(
        user=cast.manager, date_from=D + dt.timedelta(days=1), date_to=D + dt.timedelta(days=1)
    )
    assert next(r for r in nxt if r["route_code"] == "CEA")["scheduled_rounds"] == 1


def test_a_customer_sees_only_its_own_projects(cast, world):
    # when
    rows_a = analysis.route_analysis(user=cast.customer_a_user, date_from=D, date_to=D)
    rows_b = analysis.route_analysis(user=cast.customer_b_admin, date_from=D, date_to=D)
    nobody = analysis.route_analysis(user=cast.partner_admin, date_from=D, date_to=D)
    # then
    assert {r["project_code"] for r in rows_a} == {"P1"}
    assert [r["route_code"] for r in rows_b] == ["B-ONLY"]
    assert nobody == []
    close(next(r for r in rows_a if r["route_code"] == "CEA"), EXPECTED["CEA"])


def test_an_inactive_route_with_rounds_in_range_still_appears(cast, world):
    # given
    world["r2"].is_active = False
    world["r2"].save(update_fields=["is_active"])
    # when
    rows = analysis.route_analysis(user=cast.manager, date_from=D, date_to=D, project=world["p1"])
    # then
    assert [r["route_code"] for r in rows] == ["CEA", "EMPTY", "FXB"]


def test_three_queries_whatever_the_number_of_routes(cast, world, django_assert_num_queries):
    with django_assert_num_queries(3):
        analysis.route_analysis(user=cast.manager, date_from=D, date_to=D)
    # given ten more routes with a round each
    for i in range(10):
        r = ifx.route(project=world["p1"], points=1, code=f"X{i}")
        make_round(r, at(9), status=S.COMPLETED, started=at(9), finished=at(9, 10), visited=1)
    # then
    with django_assert_num_queries(3):
        rows = analysis.route_analysis(user=cast.manager, date_from=D, date_to=D)
    assert len(rows) == 14


def test_period_validation():
    assert analysis.parse_period("", "") == (analysis.yesterday(), analysis.yesterday())
    assert analysis.parse_period("2026-03-01", "") == (dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    for bad in [("2026-13-01", ""), ("x", "y"), ("2026-03-02", "2026-03-01"),
                ("2025-01-01", "2026-01-02")]:  # fmt: skip
        with pytest.raises(analysis.ValidationFailed):
            analysis.parse_period(*bad)
    # 366 days inclusive is allowed
    assert analysis.parse_period("2025-01-01", "2026-01-01")


def test_resolve_project_hides_another_customers_project(cast, world):
    assert analysis.resolve_project(cast.customer_a_user, world["p1"].pk) == world["p1"]
    with pytest.raises(analysis.NotFound):
        analysis.resolve_project(cast.customer_a_user, world["p2"].pk)
    with pytest.raises(analysis.ValidationFailed):
        analysis.resolve_project(cast.customer_a_user, "abc")


def test_sop_kpis_are_judged_against_the_actuals(cast, world):
    # given an SOP version with quality ≥ 85 and duration_cv ≤ 0.6 on R1 and R3
    sop = Sop.objects.create(code="SOP-1", title="冷站巡检规程")
    version = SopVersion.objects.create(sop=sop, number=1, effective_from=D)
    SopKpi.objects.create(version=version, kind=KpiKind.RESULT, metric="quality_avg",
                          comparator="gte", target=Decimal("85"), position=0)  # fmt: skip
    SopKpi.objects.create(version=version, kind=KpiKind.PROCESS, metric="duration_cv",
                          comparator="lte", target=Decimal("0.6"), position=1)  # fmt: skip
    for route in (world["r1"], world["r3"]):
        route.sop_version = version
        route.save(update_fields=["sop_version"])
    rows = analysis.route_analysis(user=cast.manager, date_from=D, date_to=D)
    # when
    kpis = analysis.kpis_by_route(user=cast.manager, rows=rows)
    # then R1: quality 80 < 85 not met, cv 0.5788 ≤ 0.6 met; R3 has nothing to judge
    assert [(k["kpi"].metric, k["met"]) for k in kpis[world["r1"].pk]] == [
        ("quality_avg", False),
        ("duration_cv", True),
    ]
    assert [k["met"] for k in kpis[world["r3"].pk]] == [None, None]
    assert world["r2"].pk not in kpis
    # and a customer sees no SOP configuration
    assert analysis.kpis_by_route(user=cast.customer_a_user, rows=rows) == {}


def test_quality_trend_is_daily_with_empty_days(cast, world):
    # when
    trend = analysis.quality_trend(user=cast.manager, project=world["p1"], days=3, end=D)
    # then D-1 has the 23:30 round (10), D the scored completed rounds (80 90 70 85 95)
    assert trend == [
        {"date": D - dt.timedelta(days=2), "quality_avg": None, "rounds": 0},
        {"date": D - dt.timedelta(days=1), "quality_avg": 10.0, "rounds": 1},
        {"date": D, "quality_avg": 84.0, "rounds": 5},
    ]
    # and customer B sees nothing of P1
    other = analysis.quality_trend(user=cast.customer_b_admin, project=world["p1"], days=3, end=D)
    assert all(day["rounds"] == 0 for day in other)


def test_lowest_rounds_and_standards(cast, world):
    low = analysis.lowest_rounds(user=cast.manager, projects=[world["p1"]], days=2, end=D)
    assert [float(r.quality_score) for r in low] == [10.0, 70.0, 80.0, 85.0, 90.0, 95.0]
    assert analysis.project_standards([world["p1"].pk]) == {world["p1"].pk: 80}


def test_round_drill_down_gaps_and_scoping(cast, world):
    # given two visits to R1's round a
    r1a = world["r1a"]
    cps = list(world["r1"].checkpoints.order_by("position"))
    from frontline.inspections.models import PointVisit

    PointVisit.objects.create(round=r1a, checkpoint=cps[0], recorded_at=at(8, 13))
    PointVisit.objects.create(
        round=r1a, checkpoint=cps[1], recorded_at=at(8, 13, D) + dt.timedelta(seconds=20)
    )
    # when
    round_, visits = analysis.round_visits(user=cast.manager, round_id=r1a.pk)
    # then the first gap runs from the start (08:10), the second from the first visit
    assert [v.gap_seconds for v in visits] == [180.0, 20.0]
    with pytest.raises(analysis.NotFound):
        analysis.round_visits(user=cast.customer_b_admin, round_id=r1a.pk)
    rounds = analysis.route_rounds(user=cast.manager, route=world["r1"], date_from=D, date_to=D)
    assert len(rounds) == 6  # the cancelled one is listed (marked), not counted
    assert [r.anomaly_count for r in rounds if r.pk == r1a.pk] == [2]
