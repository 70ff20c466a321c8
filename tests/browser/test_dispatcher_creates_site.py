"""A dispatcher, working in Chinese, adds a customer's new site and finds it in the list."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from frontline.accounts.roles import OrganizationKind, Role
from frontline.sites.models import Site
from frontline.testing import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dispatcher_creates_a_site_in_chinese(page, sign_in):
    # Given a dispatcher of the operator and a customer to serve
    dispatcher = f.member(
        Role.DISPATCHER, email="dispatcher@browser.example", display_name="调度员小刘"
    )
    customer = f.OrganizationFactory(
        name="华东生物制药", code="huadong-bio", kind=OrganizationKind.CUSTOMER
    )
    name = f"松江新厂区 {uuid.uuid4().hex[:6]}"

    # When they sign in, switch to Chinese and fill in the new-site form
    sign_in(page, dispatcher.email, f.PASSWORD)
    page.click("[data-testid=lang-zh-hans]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "zh-hans"

    page.goto(reverse("sites:site-create"))
    page.fill("[name=name]", name)
    page.select_option("select[name=customer]", str(customer.pk))
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()

    # Then the site exists for that customer and the list finds it, in Chinese
    site = Site.objects.get(name=name)
    assert site.customer_id == customer.pk
    page.goto(f"{reverse('sites:site-list')}?q={name}")
    assert page.get_by_text(name).first.is_visible()
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert page.js_errors == []
