"""The site map's data is scoped like every list; hostile names stay text everywhere."""

from __future__ import annotations

import json

import pytest

from frontline.testing import factories as f

EVIL = '"><script>alert(1)</script>'


def map_data(client, user):
    client.force_login(user)
    response = client.get("/sites/map/data.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)["sites"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("manager", {"a", "b"}),
        ("agent", {"a", "b"}),
        ("customer_a_user", {"a"}),
        ("customer_b_admin", {"b"}),
        ("partner_engineer", set()),
        ("outsider", set()),
    ],
)
def test_map_data_is_scoped_per_customer(client, cast, world, role, expected):
    ids = {row["id"] for row in map_data(client, cast.by_role(role))}
    assert ids == {getattr(world, f"site_{w}").pk for w in expected}


def test_map_data_has_what_a_marker_needs(client, cast, world):
    [row] = map_data(client, cast.customer_a_user)
    assert row == {
        "id": world.site_a.pk,
        "name": "华东生物 一号厂区",
        "customer": "华东生物制药",
        "city": "上海",
        "address": world.site_a.address,
        "lat": 31.2034,
        "lng": 121.587,
        "url": world.site_a.get_absolute_url(),
    }


def test_sites_without_coordinates_or_inactive_are_not_on_the_map(client, cast, world):
    f.SiteFactory(customer=cast.customer_a, latitude=None, longitude=None)
    f.SiteFactory(customer=cast.customer_a, is_active=False)
    assert [row["id"] for row in map_data(client, cast.customer_a_user)] == [world.site_a.pk]


def test_the_map_data_needs_a_signed_in_user(client, world):
    response = client.get("/sites/map/data.json")
    assert response.status_code == 302


def test_the_map_page_lists_the_same_sites_beside_the_map(client, cast, world):
    client.force_login(cast.customer_b_admin)
    response = client.get("/sites/map/")
    body = response.content.decode()
    assert [s.pk for s in response.context["sites"]] == [world.site_b.pk]
    assert world.site_b.get_absolute_url() in body
    assert world.site_a.get_absolute_url() not in body
    assert 'data-url="/sites/map/data.json"' in body
    assert "vendor/leaflet/leaflet.js" in body


@pytest.mark.parametrize("tile_url", ["", "https://tiles.example.com/{z}/{x}/{y}.png"])
def test_the_tile_url_comes_from_settings(client, cast, world, settings, tile_url):
    settings.MAP_TILE_URL = tile_url
    client.force_login(cast.manager)
    body = client.get("/sites/map/").content.decode()
    assert f'data-tile-url="{tile_url}"' in body


@pytest.fixture
def evil_site(cast):
    return f.SiteFactory(
        customer=cast.customer_a, name=EVIL, city="{{7*7}}", address="'};alert(1)//"
    )


@pytest.mark.parametrize(
    "url", ["/sites/", "/sites/?q=script", "/sites/map/", "/assets/", "detail", "edit"]
)
def test_a_hostile_site_name_is_escaped_on_pages(client, cast, evil_site, url):
    f.AssetFactory(site=evil_site)
    client.force_login(cast.manager)
    if url == "detail":
        url = evil_site.get_absolute_url()
    elif url == "edit":
        url = f"{evil_site.get_absolute_url()}edit/"

    body = client.get(url).content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in body
    if url.startswith("/sites/?") or url == "/sites/":
        assert "{{7*7}}" in body  # shown as typed, never evaluated


def test_a_hostile_site_name_is_escaped_in_map_data(client, cast, evil_site):
    client.force_login(cast.manager)
    response = client.get("/sites/map/data.json")
    raw = response.content.decode()

    assert "<script>" not in raw and "</script>" not in raw
    assert "\\u003Cscript\\u003E" in raw
    [row] = json.loads(raw)["sites"]
    assert row["name"] == EVIL
    assert row["address"] == "'};alert(1)//"


def test_a_hostile_site_name_is_plain_data_in_the_api(api, cast, evil_site):
    response = api.as_user(cast.customer_a_user).get(f"/api/v1/sites/{evil_site.pk}/")
    assert response["Content-Type"] == "application/json"
    assert response.json()["name"] == EVIL


def test_the_map_script_never_puts_site_text_into_html():
    from pathlib import Path

    source = (Path(__file__).resolve().parents[1] / "static" / "sites" / "map.js").read_text()
    assert "innerHTML" not in source
    assert "insertAdjacentHTML" not in source
    assert "textContent = site.name" in source
