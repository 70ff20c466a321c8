"""The home page shows real figures, and only for what the user may see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.sites.models import AssetStatus
from frontline.testing import factories as f


@pytest.fixture
def estate(cast):
    """Customer A has 2 sites with 3 assets (one faulty); customer B has 1 site with 1 asset."""
    a1 = f.SiteFactory(customer=cast.customer_a)
    a2 = f.SiteFactory(customer=cast.customer_a)
    b1 = f.SiteFactory(customer=cast.customer_b)
    f.AssetFactory(site=a1)
    f.AssetFactory(site=a1, status=AssetStatus.FAULTY)
    f.AssetFactory(site=a2)
    f.AssetFactory(site=b1)
    f.ProjectFactory(customer=cast.customer_a)
    f.ProjectFactory(customer=cast.customer_b, is_active=False)
    return cast


def _figure(html: str, name: str) -> str:
    marker = f'data-figure="{name}">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("<", start)].strip()


@pytest.mark.django_db
def test_operator_staff_see_figures_for_every_customer(client, estate):
    client.force_login(estate.dispatcher)
    html = client.get(reverse("home")).content.decode()
    assert _figure(html, "sites") == "3"
    assert _figure(html, "assets") == "4"
    assert _figure(html, "projects_active") == "1"
    assert _figure(html, "customers") == "2"


@pytest.mark.django_db
def test_a_customer_sees_only_its_own_figures(client, estate):
    client.force_login(estate.customer_b_admin)
    html = client.get(reverse("home")).content.decode()
    assert _figure(html, "sites") == "1"
    assert _figure(html, "assets") == "1"
    assert _figure(html, "projects_active") == "0"
    assert _figure(html, "customers") == "1"


@pytest.mark.django_db
def test_home_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.django_db
def test_home_runs_a_bounded_number_of_queries(client, estate, django_assert_max_num_queries):
    client.force_login(estate.manager)
    for _ in range(10):
        f.AssetFactory(site=f.SiteFactory(customer=estate.customer_a))
    with django_assert_max_num_queries(14):
        assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_assets_by_category_show_translated_labels(client, estate):
    client.force_login(estate.manager)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "冷水机组" in html
    assert ">chiller<" not in html


@pytest.mark.django_db
def test_only_the_most_specific_navigation_item_is_active(client, cast):
    client.force_login(cast.dispatcher)
    nav = client.get(reverse("sites:site-map")).context["nav_items"]
    active = [item["url"] for item in nav if item["active"]]
    assert active == [reverse("sites:site-map")]


def test_customers_follow_visits_in_the_portal_not_the_staff_work_order_list(client, cast):
    client.force_login(cast.customer_a_user)
    labels = [str(item["label"]) for item in client.get(reverse("home")).context["nav_items"]]
    assert "Service visits" in labels and "Work orders" not in labels
    client.force_login(cast.dispatcher)
    labels = [str(item["label"]) for item in client.get(reverse("home")).context["nav_items"]]
    assert {"Work orders", "Dispatch board", "Field report"} <= set(labels)
    client.force_login(cast.analyst)
    labels = [str(item["label"]) for item in client.get(reverse("home")).context["nav_items"]]
    assert "Field report" in labels and "Dispatch board" not in labels


def test_the_top_bar_groups_entries_into_menus_and_shows_lone_entries_as_links(client, cast):
    client.force_login(cast.manager)
    bar = client.get(reverse("inspections:analysis")).context["nav_bar"]
    menus = {str(e["label"]): e for e in bar if "items" in e}
    assert {"Service desk", "Field service", "Inspections", "Estate"} <= set(menus)
    assert menus["Inspections"]["active"] and not menus["Service desk"]["active"]
    # A customer's desk and field menus would hold one entry each: plain links instead.
    client.force_login(cast.customer_a_user)
    bar = client.get(reverse("home")).context["nav_bar"]
    links = [str(e["item"]["label"]) for e in bar if "item" in e]
    assert "My requests" in links and "Service visits" in links
