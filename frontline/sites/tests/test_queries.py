"""List endpoints and list pages run a fixed number of queries, however many rows they show."""

from __future__ import annotations

import pytest

from frontline.testing import factories as f


@pytest.fixture
def many(cast, world):
    """A dozen more of everything, with parents and several sites per project."""
    for customer in (cast.customer_a, cast.customer_b):
        sites = [f.SiteFactory(customer=customer) for _ in range(6)]
        for i in range(6):
            project = f.ProjectFactory(customer=customer)
            project.sites.set(sites[: i + 1])
            parent = f.AssetFactory(site=sites[i])
            f.AssetFactory(site=sites[i], parent=parent)
    return world


# Session + user (with membership and organisation), count, rows, and one prefetch at most.
API_MAX = 5
PAGE_MAX = 8


@pytest.mark.parametrize("kind", ["sites", "projects", "asset-models", "assets"])
@pytest.mark.parametrize("role", ["manager", "customer_a_user"])
def test_list_endpoints_do_not_grow_with_rows(
    api, cast, many, django_assert_max_num_queries, kind, role
):
    client = api.as_user(cast.by_role(role))
    with django_assert_max_num_queries(API_MAX):
        response = client.get(f"/api/v1/{kind}/?page_size=200")
    assert response.status_code == 200
    assert response.json()["count"] >= 7


@pytest.mark.parametrize(
    "url", ["/sites/", "/projects/", "/assets/", "/sites/map/", "/sites/map/data.json"]
)
@pytest.mark.parametrize("role", ["manager", "customer_a_user"])
def test_list_pages_do_not_grow_with_rows(
    client, cast, many, django_assert_max_num_queries, url, role
):
    client.force_login(cast.by_role(role))
    with django_assert_max_num_queries(PAGE_MAX):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("url", ["/sites/", "/projects/", "/assets/"])
def test_list_partials_do_not_grow_with_rows(
    client, cast, many, django_assert_max_num_queries, url
):
    client.force_login(cast.manager)
    with django_assert_max_num_queries(PAGE_MAX):
        response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["site", "project", "asset"])
def test_detail_pages_do_not_grow_with_related_rows(
    client, cast, many, django_assert_max_num_queries, kind
):
    client.force_login(cast.manager)
    obj = {"site": many.site_a, "project": many.project_a, "asset": many.asset_a}[kind]
    for _ in range(5):
        if kind == "asset":
            f.AssetFactory(site=obj.site, parent=obj)
        elif kind == "site":
            f.AssetFactory(site=obj)
    with django_assert_max_num_queries(PAGE_MAX):
        response = client.get(obj.get_absolute_url())
    assert response.status_code == 200
