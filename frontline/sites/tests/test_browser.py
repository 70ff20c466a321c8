"""In a real browser (Debian's Chromium): the map runs under the CSP and hostile names stay text."""

from __future__ import annotations

import pytest

from frontline.testing import factories as f

EVIL = '"><script>alert(1)</script>'

pytestmark = [pytest.mark.browser]


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", f.PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_the_map_shows_markers_with_escaped_popups(page, live_server, cast):
    # Given two sites of customer A (one with a hostile name) and one of customer B
    f.SiteFactory(customer=cast.customer_a, name=EVIL)
    f.SiteFactory(customer=cast.customer_a, name="二号厂区", latitude="30.1", longitude="120.2")
    f.SiteFactory(customer=cast.customer_b, name="云谷")

    # When customer A's user opens the map (no tile URL configured)
    sign_in(page, live_server, "ca-user@t.example")
    page.goto(f"{live_server.url}/sites/map/")
    page.wait_for_selector("#site-map[data-markers]", timeout=10_000)

    # Then only A's two sites are drawn, and the popup shows the name as text
    assert page.get_attribute("#site-map", "data-markers") == "2"
    page.locator(f"[data-site-id] >> text={EVIL}").hover()
    popup = page.wait_for_selector(".leaflet-popup-content a", timeout=5_000)
    assert popup.inner_text() == EVIL
    assert page.dialogs == []


@pytest.mark.django_db(transaction=True)
def test_a_manager_adds_a_site_and_finds_it(page, live_server, cast):
    sign_in(page, live_server, "manager@t.example")
    page.goto(f"{live_server.url}/sites/new/")
    page.fill("[data-testid=object-form] [name=name]", "浏览器厂区")
    page.select_option("[data-testid=object-form] [name=customer]", str(cast.customer_a.pk))
    page.locator("[data-testid=object-form] button[type=submit]").click()
    page.wait_for_url("**/sites/*/")

    page.goto(f"{live_server.url}/sites/")
    page.fill("#id_q", "浏览器")
    page.locator("[data-testid=filter-form] button[type=submit]").click()
    page.wait_for_url("**q=*")
    rows = page.locator("[data-testid=site-table] tbody tr")
    assert rows.count() == 1
    assert "浏览器厂区" in rows.first.inner_text()
