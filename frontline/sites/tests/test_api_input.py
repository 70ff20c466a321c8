"""Bad input gets a 4xx with {"code", "detail", "fields"}, never a 500, and changes nothing."""

from __future__ import annotations

import pytest

from frontline.sites.models import Asset, Project, Site
from frontline.testing import factories as f

HUGE = "99999999999999999999"


def assert_error(response, status=400, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    if field is not None:
        assert field in body["fields"], body


@pytest.fixture
def manager_api(api, cast):
    return api.as_user(cast.manager)


def test_malformed_json_is_a_400(manager_api):
    response = manager_api.post(
        "/api/v1/sites/", data='{"name": "x",', content_type="application/json"
    )
    assert_error(response)
    assert not Site.objects.exists()


def test_a_non_object_body_is_a_400(manager_api):
    response = manager_api.post("/api/v1/sites/", data="[1, 2]", content_type="application/json")
    assert_error(response)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"owner": 1}, "owner"),
        ({"id": 5}, "id"),
        ({"customer_name": "X"}, "customer_name"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_unknown_and_read_only_fields_are_named(manager_api, cast, payload, field):
    body = {"name": "新厂区", "customer": cast.customer_a.pk} | payload
    assert_error(manager_api.post("/api/v1/sites/", body, format="json"), field=field)
    assert not Site.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"latitude": "north"}, "latitude"),
        ({"latitude": [1]}, "latitude"),
        ({"customer": "cust-a"}, "customer"),
        ({"customer": True}, "customer"),
        ({"customer": {"id": 1}}, "customer"),
        ({"customer": HUGE}, "customer"),
        ({"customer": -1}, "customer"),
        ({"is_active": "maybe"}, "is_active"),
        ({"name": None}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"latitude": "91", "longitude": "121"}, "latitude"),
        ({"latitude": "31", "longitude": "-180.5"}, "longitude"),
        ({"latitude": "31.1234567", "longitude": "121"}, "latitude"),
        ({"latitude": "31"}, "longitude"),
        ({"longitude": "121"}, "latitude"),
    ],
)
def test_wrong_site_values_are_field_errors(manager_api, cast, payload, field):
    body = {"name": "新厂区", "customer": cast.customer_a.pk} | payload
    assert_error(manager_api.post("/api/v1/sites/", body, format="json"), field=field)
    assert not Site.objects.exists()


def test_a_partner_organisation_is_not_a_customer(manager_api, cast):
    response = manager_api.post(
        "/api/v1/sites/", {"name": "x", "customer": cast.partner.pk}, format="json"
    )
    assert_error(response, field="customer")


def test_a_duplicate_site_name_for_the_customer_is_a_400(manager_api, cast, world):
    response = manager_api.post(
        "/api/v1/sites/", {"name": world.site_a.name, "customer": cast.customer_a.pk}, format="json"
    )
    assert_error(response, field="name")
    assert Site.objects.filter(name=world.site_a.name).count() == 1


def test_patching_one_coordinate_away_is_a_400(manager_api, world):
    response = manager_api.patch(
        f"/api/v1/sites/{world.site_a.pk}/", {"longitude": None}, format="json"
    )
    assert_error(response, field="longitude")
    world.site_a.refresh_from_db()
    assert world.site_a.longitude is not None


def test_a_duplicate_project_code_is_a_400(manager_api, cast, world):
    response = manager_api.post(
        "/api/v1/projects/",
        {"code": "HD-2026", "name": "x", "customer": cast.customer_a.pk},
        format="json",
    )
    assert_error(response, field="code")
    assert Project.objects.filter(code="HD-2026").count() == 1


@pytest.mark.parametrize("sites", ["1", [HUGE], ["abc"], [None], [{"id": 1}]])
def test_malformed_site_lists_are_400(manager_api, cast, world, sites):
    response = manager_api.post(
        "/api/v1/projects/",
        {"code": "NEW", "name": "x", "customer": cast.customer_a.pk, "sites": sites},
        format="json",
    )
    assert_error(response, field="sites")
    assert not Project.objects.filter(code="NEW").exists()


def test_a_project_cannot_cover_another_customers_site(manager_api, cast, world):
    response = manager_api.patch(
        f"/api/v1/projects/{world.project_a.pk}/",
        {"sites": [world.site_a.pk, world.site_b.pk]},
        format="json",
    )
    assert_error(response, field="sites")
    assert list(world.project_a.sites.all()) == [world.site_a]


def test_contract_dates_out_of_order_are_a_400(manager_api, world):
    response = manager_api.patch(
        f"/api/v1/projects/{world.project_a.pk}/",
        {"contract_start": "2030-01-01", "contract_end": "2029-01-01"},
        format="json",
    )
    assert_error(response, field="contract_end")


def test_a_part_at_another_customers_site_is_a_400(manager_api, world):
    response = manager_api.post(
        "/api/v1/assets/",
        {
            "name": "泵",
            "serial": "P-9",
            "site": world.site_a.pk,
            "model": world.chiller.pk,
            "parent": world.asset_b.pk,
        },
        format="json",
    )
    assert_error(response, field="parent")
    assert not Asset.objects.filter(serial="P-9").exists()


def test_an_asset_cycle_is_a_400(manager_api, world):
    child = f.AssetFactory(site=world.site_a, parent=world.asset_a)
    response = manager_api.patch(
        f"/api/v1/assets/{world.asset_a.pk}/", {"parent": child.pk}, format="json"
    )
    assert_error(response, field="parent")
    world.asset_a.refresh_from_db()
    assert world.asset_a.parent is None


def test_a_duplicate_serial_is_a_400(manager_api, world):
    response = manager_api.post(
        "/api/v1/assets/",
        {"name": "x", "serial": "SN-A-1", "site": world.site_a.pk, "model": world.chiller.pk},
        format="json",
    )
    assert_error(response, field="serial")
    assert Asset.objects.filter(serial="SN-A-1").count() == 1


@pytest.mark.parametrize(
    ("field", "value"), [("status", "exploded"), ("installed_on", "yesterday"), ("model", 0)]
)
def test_wrong_asset_values_are_400(manager_api, world, field, value):
    response = manager_api.patch(
        f"/api/v1/assets/{world.asset_a.pk}/", {field: value}, format="json"
    )
    assert_error(response, field=field)


def test_an_unknown_category_is_a_400(manager_api):
    response = manager_api.post(
        "/api/v1/asset-models/",
        {"manufacturer": "T", "model": "C", "category": "toaster"},
        format="json",
    )
    assert_error(response, field="category")


def test_a_duplicate_asset_model_is_a_400(manager_api, world):
    response = manager_api.post(
        "/api/v1/asset-models/",
        {"manufacturer": "Carrier", "model": "19XR-1500", "category": "chiller"},
        format="json",
    )
    assert_error(response, field="model")


@pytest.mark.parametrize("kind", ["sites", "projects", "asset-models", "assets"])
@pytest.mark.parametrize("pk", [HUGE, "0", "-1", "abc", "1.5", "1e3", "%00", "１"])
def test_malformed_and_huge_ids_are_404(manager_api, world, kind, pk):
    assert manager_api.get(f"/api/v1/{kind}/{pk}/").status_code == 404
    assert (
        manager_api.patch(f"/api/v1/{kind}/{pk}/", {"name": "x"}, format="json").status_code == 404
    )


@pytest.mark.parametrize(
    ("kind", "query"),
    [
        ("sites", "customer=" + HUGE),
        ("sites", "customer=abc"),
        ("sites", "customer=-1"),
        ("sites", "ordering=password"),
        ("sites", "ordering=customer__memberships__user__password"),
        ("sites", "ordering=name;DROP TABLE sites_site"),
        ("sites", "ordering="),
        ("sites", "page_size=-1"),
        ("sites", "page_size=0"),
        ("sites", "page_size=100000"),
        ("sites", "page_size=" + HUGE),
        ("sites", "page_size=abc"),
        ("sites", "owner=1"),
        ("sites", "customer__kind=partner"),
        ("projects", "site=" + HUGE),
        ("projects", "customer=1%27%20OR%201=1"),
        ("assets", "site=" + HUGE),
        ("assets", "parent=" + HUGE),
        ("assets", "model=x"),
        ("assets", "status=exploded"),
        ("assets", "category=toaster"),
        ("assets", "customer=" + HUGE),
        ("asset-models", "category=toaster"),
        ("asset-models", "ordering=-pk"),
    ],
)
def test_off_allowlist_and_malformed_query_parameters_are_400(manager_api, world, kind, query):
    assert_error(manager_api.get(f"/api/v1/{kind}/?{query}"))


@pytest.mark.parametrize("query", ["page=" + HUGE, "page=abc", "page=-1", "page=0"])
def test_bad_page_numbers_are_4xx(manager_api, world, query):
    response = manager_api.get(f"/api/v1/sites/?{query}")
    assert 400 <= response.status_code < 500


def test_another_customers_site_is_not_a_valid_filter_for_a_customer(api, cast, world):
    # Given customer A's user, when they filter by B's site, then it is a 400 (not B's data, not a leak)
    response = api.as_user(cast.customer_a_user).get(f"/api/v1/assets/?site={world.site_b.pk}")
    assert_error(response, field="site")


@pytest.mark.parametrize(
    ("kind", "query", "expected"),
    [
        ("sites", "city=上海", ["site_a"]),
        ("sites", "is_active=false", []),
        ("sites", "search=云谷", ["site_b"]),
        ("projects", "site={site_a}", ["project_a"]),
        ("assets", "customer={customer_b}", ["asset_b"]),
        ("assets", "category=chiller&ordering=-name", ["asset_b", "asset_a"]),
        ("assets", "search=SN-A", ["asset_a"]),
    ],
)
def test_allowlisted_filters_work(manager_api, cast, world, kind, query, expected):
    query = query.format(site_a=world.site_a.pk, customer_b=cast.customer_b.pk)
    response = manager_api.get(f"/api/v1/{kind}/?{query}")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [
        getattr(world, n).pk for n in expected
    ]
