"""Routes API: role matrix, scoping, nested checkpoints and items, import, QR sheet."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from frontline.inspections.models import CheckItem, Checkpoint, Route, Schedule, Sop
from frontline.inspections.tests import factories as fi
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

ROUTES = "/api/v1/routes/"


@pytest.fixture
def route_a(cast):
    return fi.route(customer=cast.customer_a, points=3)


def payload(route, **kw):
    return {"project": route.project_id, "site": route.site_id, "code": "NEW", "name": "新路线",
            **kw}  # fmt: skip


@pytest.mark.parametrize(
    "role, status",
    [("admin", 201), ("manager", 201), ("dispatcher", 403), ("engineer", 403),
     ("analyst", 403), ("customer_a_admin", 403), ("outsider", 403)],
)  # fmt: skip
def test_create_route_role_matrix(api, cast, route_a, role, status):
    response = api.as_user(cast.by_role(role)).post(ROUTES, payload(route_a), format="json")
    assert response.status_code == status, response.content
    assert Route.objects.filter(code="NEW").exists() is (status == 201)


def test_customer_sees_own_routes_only_and_b_gets_404(api, cast, route_a):
    fi.route(customer=cast.customer_b, points=1)
    data = api.as_user(cast.customer_a_user).get(ROUTES).json()
    assert [r["id"] for r in data["results"]] == [route_a.pk]
    assert "anomaly_team" not in data["results"][0]
    detail = api.as_user(cast.customer_a_user).get(f"{ROUTES}{route_a.pk}/").json()
    assert "qr_value" not in detail["checkpoints"][0]
    assert api.as_user(cast.customer_b_admin).get(f"{ROUTES}{route_a.pk}/").status_code == 404
    assert api.as_user(cast.partner_admin).get(ROUTES).json()["results"] == []


def test_staff_detail_has_ordered_checkpoints_with_items(api, cast, route_a):
    data = api.as_user(cast.engineer).get(f"{ROUTES}{route_a.pk}/").json()
    assert [c["code"] for c in data["checkpoints"]] == ["P01", "P02", "P03"]
    assert len(data["checkpoints"][0]["items"]) == 3
    assert data["checkpoints"][0]["qr_value"].startswith("FLQR-")


def test_list_and_detail_query_counts(api, cast, django_assert_max_num_queries):
    for _ in range(4):
        fi.route(customer=cast.customer_a, points=3)
    client = api.as_user(cast.manager)
    with django_assert_max_num_queries(8):
        data = client.get(ROUTES).json()
    assert data["count"] == 4 and data["results"][0]["checkpoint_count"] == 3
    route = Route.objects.first()
    with django_assert_max_num_queries(8):
        assert client.get(f"{ROUTES}{route.pk}/").status_code == 200


def test_filters_and_bad_filters(api, cast, route_a):
    other = fi.route(customer=cast.customer_a, points=0)
    client = api.as_user(cast.manager)
    got = client.get(ROUTES, {"project": route_a.project_id}).json()["results"]
    assert [r["id"] for r in got] == [route_a.pk]
    client.patch(f"{ROUTES}{other.pk}/", {"is_active": False}, format="json")
    assert client.get(ROUTES, {"active": "false"}).json()["count"] == 1
    assert client.get(ROUTES, {"active": "perhaps"}).status_code == 400
    assert client.get(ROUTES, {"colour": "red"}).status_code == 400
    assert client.get(ROUTES, {"ordering": "secret"}).status_code == 400


def test_foreign_site_in_payload_is_refused(api, cast, route_a):
    site_b = f.SiteFactory(customer=cast.customer_b)
    response = api.as_user(cast.manager).post(
        ROUTES, payload(route_a, site=site_b.pk), format="json"
    )
    assert response.status_code == 400 and "site" in response.json()["fields"]
    assert not Route.objects.filter(code="NEW").exists()


def test_unknown_field_is_400(api, cast, route_a):
    response = api.as_user(cast.manager).post(
        ROUTES, payload(route_a, created_at="2020-01-01"), format="json"
    )
    assert response.status_code == 400


def test_checkpoint_and_item_management(api, cast, route_a):
    client = api.as_user(cast.manager)
    base = f"{ROUTES}{route_a.pk}/checkpoints/"
    created = client.post(base, {"code": "P04", "name": "4# 泵", "position": 1}, format="json")
    assert created.status_code == 201, created.content
    cp = created.json()["id"]
    codes = [c["code"] for c in client.get(base).json()]
    assert codes == ["P04", "P01", "P02", "P03"]
    moved = client.post(f"{base}{cp}/move/", {"position": 4}, format="json").json()
    assert [c["code"] for c in moved] == ["P01", "P02", "P03", "P04"]
    item = client.post(
        f"{base}{cp}/items/",
        {"name": "振动", "kind": "number", "unit": "mm/s", "normal_min": "0", "normal_max": "4.5"},
        format="json",
    )
    assert item.status_code == 201, item.content
    item_id = item.json()["id"]
    bad = client.patch(f"{base}{cp}/items/{item_id}/", {"normal_min": "9"}, format="json")
    assert bad.status_code == 400 and "normal_max" in bad.json()["fields"]
    assert client.delete(f"{base}{cp}/items/{item_id}/").status_code == 204
    assert (
        client.patch(f"{base}{cp}/", {"name": "四号泵"}, format="json").json()["name"] == "四号泵"
    )
    assert client.delete(f"{base}{cp}/").status_code == 204
    assert not Checkpoint.objects.filter(pk=cp).exists()


def test_checkpoint_of_another_route_is_404(api, cast, route_a):
    other = fi.route(customer=cast.customer_a, points=1)
    cp = other.checkpoints.get()
    url = f"{ROUTES}{route_a.pk}/checkpoints/{cp.pk}/"
    assert api.as_user(cast.manager).patch(url, {"name": "x"}, format="json").status_code == 404


@pytest.mark.parametrize("role, status", [("engineer", 403), ("customer_a_admin", 403),
                                          ("customer_b_admin", 404)])  # fmt: skip
def test_denied_checkpoint_writes_change_nothing(api, cast, route_a, role, status):
    cp = route_a.checkpoints.first()
    client = api.as_user(cast.by_role(role))
    base = f"{ROUTES}{route_a.pk}/checkpoints/"
    assert client.patch(f"{base}{cp.pk}/", {"name": "x"}, format="json").status_code == status
    assert client.delete(f"{base}{cp.pk}/").status_code == status
    assert client.post(base, {"code": "Z", "name": "z"}, format="json").status_code == status
    assert Checkpoint.objects.filter(route=route_a).count() == 3
    assert not Checkpoint.objects.filter(name="x").exists()


def test_route_cannot_be_deleted(api, cast, route_a):
    assert api.as_user(cast.admin).delete(f"{ROUTES}{route_a.pk}/").status_code == 405
    assert Route.objects.filter(pk=route_a.pk).exists()


def test_qr_sheet_and_png(api, cast, route_a):
    client = api.as_user(cast.engineer)
    pdf = client.get(f"{ROUTES}{route_a.pk}/qr-sheet/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    cp = route_a.checkpoints.first()
    png = client.get(f"{ROUTES}{route_a.pk}/checkpoints/{cp.pk}/qr/")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert (
        api.as_user(cast.customer_a_admin).get(f"{ROUTES}{route_a.pk}/qr-sheet/").status_code == 403
    )
    assert (
        api.as_user(cast.customer_b_admin).get(f"{ROUTES}{route_a.pk}/qr-sheet/").status_code == 404
    )


def _xlsx(rows) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(["header"] * 16)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("r.xlsx", buffer.getvalue())


def _rows(project, site):
    return [[project.code, "IMP", "导入路线", site.name, "P01", "1# 机组", "", "", "温度",
             "number", "°C", 1, 2, "", "", "no"]]  # fmt: skip


def test_import_endpoint(api, cast):
    project = f.ProjectFactory(customer=cast.customer_a)
    site = f.SiteFactory(customer=cast.customer_a)
    client = api.as_user(cast.manager)
    url = f"{ROUTES}import/"
    first = client.post(url, {"file": _xlsx(_rows(project, site))}, format="multipart")
    assert first.status_code == 200, first.content
    assert first.json()["routes_created"] == 1 and first.json()["items_created"] == 1
    again = client.post(url, {"file": _xlsx(_rows(project, site))}, format="multipart").json()
    assert again["routes_created"] == 0 and again["items_updated"] == 0
    rows = _rows(project, site)
    rows[0][11] = "warm"
    bad = client.post(url, {"file": _xlsx(rows)}, format="multipart")
    assert bad.status_code == 400
    assert bad.json()["fields"]["file"][0].startswith("Row 2, column L")
    denied = api.as_user(cast.dispatcher).post(
        url, {"file": _xlsx(_rows(project, site))}, format="multipart"
    )
    assert denied.status_code == 403


def test_import_template(api, cast):
    response = api.as_user(cast.manager).get(f"{ROUTES}import-template/")
    assert response.status_code == 200 and response.content.startswith(b"PK")
    assert api.as_user(cast.engineer).get(f"{ROUTES}import-template/").status_code == 403


def test_schedules(api, cast, route_a, django_assert_max_num_queries):
    client = api.as_user(cast.manager)
    body = {"route": route_a.pk, "kind": "daily", "times": ["08:00"], "engineer": cast.engineer.pk}
    created = client.post("/api/v1/schedules/", body, format="json")
    assert created.status_code == 201, created.content
    bad = client.post("/api/v1/schedules/", {**body, "times": ["8am"]}, format="json")
    assert bad.status_code == 400 and "times" in bad.json()["fields"]
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/schedules/", {"route": route_a.pk}).json()["count"] == 1
    customer = api.as_user(cast.customer_a_admin).get("/api/v1/schedules/").json()["results"]
    assert "engineer" not in customer[0]
    assert api.as_user(cast.customer_b_admin).get("/api/v1/schedules/").json()["count"] == 0
    sid = created.json()["id"]
    denied = api.as_user(cast.dispatcher).patch(
        f"/api/v1/schedules/{sid}/", {"window_minutes": 30}, format="json"
    )
    assert denied.status_code == 403
    assert Schedule.objects.get(pk=sid).window_minutes == 120


def test_sops_with_versions_and_kpis(api, cast, route_a):
    client = api.as_user(cast.manager)
    sop = client.post("/api/v1/sops/", {"code": "SOP-1", "title": "冷站规程"}, format="json")
    assert sop.status_code == 201, sop.content
    url = f"/api/v1/sops/{sop.json()['id']}/versions/"
    kpis = [{"kind": "result", "metric": "quality_avg", "comparator": "gte", "target": "80"}]
    version = client.post(url, {"body": "<p>步骤</p>", "kpis": kpis}, format="json")
    assert version.status_code == 201, version.content
    assert version.json()["number"] == 1 and version.json()["kpis"][0]["metric"] == "quality_avg"
    listed = client.get(url).json()
    assert len(listed) == 1
    patched = client.patch(
        f"{ROUTES}{route_a.pk}/", {"sop_version": version.json()["id"]}, format="json"
    )
    assert patched.json()["sop_version"] == version.json()["id"]
    assert api.as_user(cast.customer_a_admin).get("/api/v1/sops/").json()["count"] == 0
    assert api.as_user(cast.engineer).post(url, {}, format="json").status_code == 403
    assert Sop.objects.get().versions.count() == 1


def test_quality_schemes(api, cast):
    client = api.as_user(cast.admin)
    created = client.post(
        "/api/v1/quality-schemes/", {"name": "严格", "standard": 90}, format="json"
    )
    assert created.status_code == 201 and created.json()["total_weight"] == 100
    assert api.as_user(cast.customer_a_admin).get("/api/v1/quality-schemes/").json()["count"] == 0
    assert (
        api.as_user(cast.analyst).post("/api/v1/quality-schemes/", {"name": "x"}, format="json")
    ).status_code == 403


def test_xss_in_names_is_returned_as_data(api, cast, route_a):
    client = api.as_user(cast.manager)
    evil = '"><script>alert(1)</script>'
    client.patch(f"{ROUTES}{route_a.pk}/", {"name": evil}, format="json")
    data = client.get(f"{ROUTES}{route_a.pk}/")
    assert data["Content-Type"].startswith("application/json")
    assert data.json()["name"] == evil
    assert CheckItem.objects.exists()
