"""Route configuration pages: lists, detail, forms through services, SOPs, schemes, import."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook

from frontline.inspections import config
from frontline.inspections.models import CheckItem, Checkpoint, QualityScheme, Route, Schedule, Sop
from frontline.inspections.tests import factories as fi
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

XSS = '"><script>alert(1)</script>'


def url(name, *args):
    return reverse(f"inspections:{name}", args=args)


@pytest.fixture
def route_a(cast):
    return fi.route(customer=cast.customer_a, points=3)


def test_list_scoping_and_query_count(client, cast, route_a, django_assert_max_num_queries):
    for _ in range(5):
        fi.route(customer=cast.customer_a, points=2)
    route_b = fi.route(customer=cast.customer_b, points=1)
    client.force_login(cast.manager)
    with django_assert_max_num_queries(14):
        response = client.get(url("route-list"))
    assert response.status_code == 200 and route_b.code in response.content.decode()
    client.force_login(cast.customer_a_user)
    body = client.get(url("route-list")).content.decode()
    assert route_a.code in body and f'data-route-id="{route_b.pk}"' not in body
    client.force_login(cast.outsider)
    assert client.get(url("route-list")).status_code == 404


def test_list_filters(client, cast, route_a):
    other = fi.route(customer=cast.customer_a, points=0)
    client.force_login(cast.manager)
    body = client.get(url("route-list"), {"project": route_a.project_id}).content.decode()
    assert f'data-route-id="{route_a.pk}"' in body and f'data-route-id="{other.pk}"' not in body
    bad = client.get(url("route-list"), {"active": "perhaps"}).content.decode()
    assert 'data-testid="filter-errors"' in bad and f'data-route-id="{route_a.pk}"' not in bad
    partial = client.get(url("route-list"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and f'data-route-id="{route_a.pk}"' in partial


def test_detail_for_staff_customer_and_other_customer(
    client, cast, route_a, django_assert_max_num_queries
):
    cp = route_a.checkpoints.first()
    client.force_login(cast.manager)
    with django_assert_max_num_queries(16):
        body = client.get(url("route-detail", route_a.pk)).content.decode()
    assert cp.qr_value in body and url("route-qr-sheet", route_a.pk) in body
    client.force_login(cast.customer_a_admin)
    body = client.get(url("route-detail", route_a.pk)).content.decode()
    assert cp.name in body and cp.qr_value not in body and "anomaly-rule" not in body
    client.force_login(cast.customer_b_admin)
    assert client.get(url("route-detail", route_a.pk)).status_code == 404
    assert client.get(url("route-detail", "abc")).status_code == 404


def test_manager_creates_a_route_and_engineer_may_not(client, cast):
    project = f.ProjectFactory(customer=cast.customer_a)
    site = f.SiteFactory(customer=cast.customer_a)
    data = {"project": project.pk, "site": site.pk, "code": "FXB", "name": "变配电巡检",
            "expected_minutes": 45, "anomaly_action": "work_order",
            "anomaly_priority": "normal"}  # fmt: skip
    client.force_login(cast.engineer)
    assert client.post(url("route-create"), data).status_code == 403
    assert client.get(url("route-create")).status_code == 403
    client.force_login(cast.customer_a_admin)
    assert client.post(url("route-create"), data).status_code == 403
    assert not Route.objects.exists()
    client.force_login(cast.manager)
    response = client.post(url("route-create"), data)
    route = Route.objects.get(code="FXB")
    assert response.status_code == 302 and response["Location"] == route.get_absolute_url()


def test_service_errors_show_in_the_form(client, cast, route_a):
    client.force_login(cast.manager)
    other_site = f.SiteFactory(customer=cast.customer_b)
    data = {"project": route_a.project_id, "site": other_site.pk, "code": "X", "name": "x",
            "expected_minutes": 30, "anomaly_action": "none", "anomaly_priority": "normal"}  # fmt: skip
    response = client.post(url("route-create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["site"]
    assert not Route.objects.filter(code="X").exists()


def test_checkpoint_item_and_schedule_forms(client, cast, route_a):
    client.force_login(cast.admin)
    response = client.post(url("checkpoint-create", route_a.pk), {"code": "P09", "name": "9# 泵"})
    assert response.status_code == 302
    cp = Checkpoint.objects.get(route=route_a, code="P09")
    bad = client.post(url("item-create", cp.pk), {"name": "压力", "kind": "number",
                                                  "normal_min": "5", "normal_max": "1",
                                                  "normal_answer": "true"})  # fmt: skip
    assert bad.status_code == 200 and bad.context["form"].errors["normal_max"]
    ok = client.post(url("item-create", cp.pk), {"name": "声音", "kind": "choice",
                                                 "choices": "正常，异响", "abnormal_choices": "异响",
                                                 "normal_answer": "true",
                                                 "anomaly_when_abnormal": "on"})  # fmt: skip
    assert ok.status_code == 302
    item = CheckItem.objects.get(checkpoint=cp)
    assert item.choices == ["正常", "异响"] and item.abnormal_choices == ["异响"]
    edit = client.get(url("item-edit", item.pk))
    assert "正常, 异响" in edit.content.decode()
    client.post(url("checkpoint-move", cp.pk), {"direction": "up"})
    assert Checkpoint.objects.get(pk=cp.pk).position == 3
    client.post(url("item-remove", item.pk))
    assert not CheckItem.objects.filter(pk=item.pk).exists()
    client.post(url("checkpoint-remove", cp.pk))
    assert not Checkpoint.objects.filter(pk=cp.pk).exists()
    schedule = client.post(url("schedule-create", route_a.pk), {
        "kind": "weekly", "times": "08:00, 20:00", "weekdays": ["0", "3"],
        "window_minutes": 90, "starts_on": "2026-11-01", "is_active": "on",
    })  # fmt: skip
    assert schedule.status_code == 302
    saved = Schedule.objects.get(route=route_a)
    assert saved.times == ["08:00", "20:00"] and saved.weekdays == [0, 3]
    assert client.get(url("schedule-edit", saved.pk)).status_code == 200


def test_denied_actions_change_nothing(client, cast, route_a):
    cp = route_a.checkpoints.get(code="P02")
    client.force_login(cast.dispatcher)
    assert client.post(url("checkpoint-move", cp.pk), {"direction": "up"}).status_code == 403
    assert client.post(url("checkpoint-remove", cp.pk)).status_code == 403
    assert client.post(url("route-active", route_a.pk)).status_code == 403
    client.force_login(cast.customer_b_admin)
    assert client.post(url("checkpoint-remove", cp.pk)).status_code == 404
    cp.refresh_from_db()
    route_a.refresh_from_db()
    assert cp.position == 2 and route_a.is_active and Checkpoint.objects.filter(pk=cp.pk).exists()


def test_archive_and_activate(client, cast, route_a):
    client.force_login(cast.manager)
    client.post(url("route-active", route_a.pk))
    route_a.refresh_from_db()
    assert not route_a.is_active
    client.post(url("route-active", route_a.pk))
    route_a.refresh_from_db()
    assert route_a.is_active


def test_hostile_names_are_escaped(client, cast, route_a):
    config.update_route(actor=cast.admin, route=route_a, name=XSS)
    cp = route_a.checkpoints.first()
    config.update_checkpoint(actor=cast.admin, checkpoint=cp, name=XSS, location="{{7*7}}")
    client.force_login(cast.manager)
    for page in (url("route-list"), url("route-detail", route_a.pk)):
        body = client.get(page).content.decode()
        assert "<script>alert(1)" not in body and "&lt;script&gt;" in body
    assert (
        "49"
        not in client.get(url("route-detail", route_a.pk)).content.decode().split("{{7*7}}")[0][-5:]
    )


def test_qr_pages(client, cast, route_a):
    cp = route_a.checkpoints.first()
    client.force_login(cast.engineer)
    pdf = client.get(url("route-qr-sheet", route_a.pk))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    png = client.get(url("checkpoint-qr", cp.pk))
    assert png["Content-Type"] == "image/png"
    client.force_login(cast.customer_a_admin)
    assert client.get(url("route-qr-sheet", route_a.pk)).status_code == 404


def test_sop_pages(client, cast, route_a, django_assert_max_num_queries):
    client.force_login(cast.manager)
    created = client.post(url("sop-create"), {"code": "SOP-CH", "title": "冷站规程"})
    sop = Sop.objects.get(code="SOP-CH")
    assert created["Location"] == url("sop-version-create", sop.pk)
    form = {"body": "<p>步骤</p><img src=x onerror=alert(1)>", "effective_from": "2026-11-01",
            "kpi-TOTAL_FORMS": "2", "kpi-INITIAL_FORMS": "0", "kpi-MIN_NUM_FORMS": "0",
            "kpi-MAX_NUM_FORMS": "20",
            "kpi-0-kind": "result", "kpi-0-metric": "quality_avg", "kpi-0-comparator": "gte",
            "kpi-0-target": "80",
            "kpi-1-kind": "process", "kpi-1-metric": "", "kpi-1-comparator": "lte",
            "kpi-1-target": ""}  # fmt: skip
    response = client.post(url("sop-version-create", sop.pk), form)
    assert response.status_code == 302, response.context and response.context["form"].errors
    version = sop.versions.get()
    assert version.kpis.count() == 1 and "onerror" not in version.body
    with django_assert_max_num_queries(12):
        assert client.get(url("sop-list")).status_code == 200
    body = client.get(url("sop-detail", sop.pk)).content.decode()
    assert "v1" in body and "onerror" not in body
    client.force_login(cast.customer_a_admin)
    assert client.get(url("sop-list")).status_code == 404
    assert client.get(url("sop-detail", sop.pk)).status_code == 404
    client.force_login(cast.engineer)
    assert client.post(url("sop-version-create", sop.pk), form).status_code == 403
    assert sop.versions.count() == 1


def test_quality_scheme_pages(client, cast, django_assert_max_num_queries):
    client.force_login(cast.admin)
    data = {"name": "严格", "coverage_weight": 50, "timeliness_weight": 20, "anomalies_weight": 10,
            "pace_weight": 10, "photos_weight": 10, "min_seconds_per_point": 40,
            "standard": 90}  # fmt: skip
    assert client.post(url("quality-scheme-create"), data).status_code == 302
    scheme = QualityScheme.objects.get()
    assert scheme.standard == 90
    with django_assert_max_num_queries(12):
        assert "严格" in client.get(url("quality-scheme-list")).content.decode()
    assert client.get(url("quality-scheme-edit", scheme.pk)).status_code == 200
    client.force_login(cast.customer_a_admin)
    assert client.get(url("quality-scheme-list")).status_code == 404


def _xlsx(rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(["h"] * 16)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "routes.xlsx"
    return buffer


def test_import_page(client, cast):
    project = f.ProjectFactory(customer=cast.customer_a)
    site = f.SiteFactory(customer=cast.customer_a)
    row = [project.code, "IMP", "导入", site.name, "P01", "机组", "", "", "温度", "number", "°C",
           1, 2, "", "", ""]  # fmt: skip
    client.force_login(cast.manager)
    assert client.get(url("route-import")).status_code == 200
    template = client.get(url("route-import-template"))
    assert template.status_code == 200 and template.content.startswith(b"PK")
    good = client.post(url("route-import"), {"file": _xlsx([row])})
    assert good.status_code == 200 and 'data-testid="import-result"' in good.content.decode()
    assert Route.objects.filter(code="IMP").exists()
    bad_row = list(row)
    bad_row[12] = "=A1"
    bad = client.post(url("route-import"), {"file": _xlsx([bad_row])})
    assert bad.status_code == 400
    assert "Row 2, column M (normal max)" in bad.content.decode()
    client.force_login(cast.engineer)
    assert client.post(url("route-import"), {"file": _xlsx([row])}).status_code == 403
    assert client.get(url("route-import-template")).status_code == 403
