"""The analysis API and Excel export: exact field names, validation, scoping, query counts."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from frontline.inspections import analysis
from frontline.inspections.states import RoundStatus
from frontline.inspections.tests import factories as ifx
from frontline.inspections.tests.test_analysis import (
    EXPECTED,
    D,
    at,
    build,
    close,
    make_round,
)

URL = "/api/v1/inspections/analysis/"
TREND = "/api/v1/inspections/quality-trend/"
DAY = {"date_from": D.isoformat(), "date_to": D.isoformat()}


@pytest.fixture
def world(cast):
    return build(cast)


def test_one_row_per_route_with_exactly_the_documented_fields(cast, world, api):
    # when
    response = api.as_user(cast.manager).get(URL, {**DAY, "project": world["p1"].pk})
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["date_from"] == body["date_to"] == "2026-03-10"
    assert body["count"] == 3
    for row in body["results"]:
        assert set(row) == set(analysis.IDENTITY) | set(analysis.FIELDS)
        close(row, EXPECTED[row["route_code"]])


@pytest.mark.parametrize(
    "params, field",
    [
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_to": "tomorrow"}, "date_to"),
        ({"date_from": "2026-03-10", "date_to": "2026-03-09"}, "date_to"),
        ({"date_from": "2025-01-01", "date_to": "2026-01-02"}, "date_from"),
        ({"project": "x"}, "project"),
        ({"route": "1"}, "route"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(cast, world, api, params, field):
    response = api.as_user(cast.manager).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_customer_a_sees_only_its_projects_and_b_gets_a_404_for_a_project(cast, world, api):
    # when
    mine = api.as_user(cast.customer_a_user).get(URL, DAY).json()
    # then
    assert {r["project_code"] for r in mine["results"]} == {"P1"}
    # when B asks for A's project, or A for B's
    assert api.as_user(cast.customer_b_admin).get(URL, {**DAY, "project": world["p1"].pk}).status_code == 404  # fmt: skip
    assert api.as_user(cast.customer_a_user).get(URL, {**DAY, "project": world["p2"].pk}).status_code == 404  # fmt: skip
    assert api.as_user(cast.customer_a_user).get(URL, {**DAY, "project": 999999}).status_code == 404
    # and B unfiltered sees only its own route
    theirs = api.as_user(cast.customer_b_admin).get(URL, DAY).json()
    assert [r["route_code"] for r in theirs["results"]] == ["B-ONLY"]


def test_who_may_not_view_inspections_is_refused(cast, world, api):
    assert api.as_user(cast.partner_admin).get(URL, DAY).status_code == 403
    assert api.as_user(cast.outsider).get(URL, DAY).status_code == 403
    api.logout()
    assert api.get(URL, DAY).status_code in (401, 403)


def test_query_count_stays_constant_as_routes_grow(cast, world, api, django_assert_max_num_queries):
    client = api.as_user(cast.manager)
    with django_assert_max_num_queries(8) as before:
        assert client.get(URL, DAY).status_code == 200
    # given twenty more routes with rounds
    for i in range(20):
        r = ifx.route(project=world["p1"], points=1, code=f"N{i}")
        make_round(r, at(10), status=RoundStatus.COMPLETED, started=at(10),
                   finished=at(10, 15), visited=1, quality=88)  # fmt: skip
    # then
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert client.get(URL, DAY).json()["count"] == 24


def test_quality_trend_endpoint(cast, world, api, django_assert_max_num_queries):
    client = api.as_user(cast.manager)
    # when
    with django_assert_max_num_queries(8):
        response = client.get(TREND, {"project": world["p1"].pk, "days": 5})
    # then
    body = response.json()
    assert response.status_code == 200
    assert body["standard"] == 80
    assert len(body["days"]) == 5
    assert body["days"][-1]["date"] == timezone.localdate().isoformat()
    # bad input and scoping
    assert client.get(TREND, {"project": world["p1"].pk, "days": 0}).status_code == 400
    assert client.get(TREND, {"project": world["p1"].pk, "days": "x"}).status_code == 400
    assert client.get(TREND, {}).status_code == 400
    b = api.as_user(cast.customer_b_admin)
    assert b.get(TREND, {"project": world["p1"].pk}).status_code == 404


def test_export_neutralises_formulas_and_counts_queries(
    cast, api, client, django_assert_max_num_queries
):
    # given a route named like a formula
    build(cast, r1_name="=cmd|' /C calc'!A0")
    client.force_login(cast.manager)
    # when
    with django_assert_max_num_queries(12):
        response = client.get("/inspections/analysis/export/", DAY)
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    named = [c for c in cells if isinstance(c.value, str) and "cmd|" in c.value]
    assert named, "the route name is in the workbook"
    for cell in named:
        assert cell.data_type == "s"
        assert cell.value.startswith("'=")
    assert not any(c.data_type == "f" for c in cells)


def test_export_is_scoped_and_validated(cast, client):
    build(cast)
    client.force_login(cast.customer_b_admin)
    response = client.get("/inspections/analysis/export/", DAY)
    wb = load_workbook(io.BytesIO(response.content))
    text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    assert "B-ONLY" in text and "CEA" not in text
    assert client.get("/inspections/analysis/export/", {"date_from": "x"}).status_code == 400
