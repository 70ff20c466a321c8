"""In a real browser (Debian's Chromium) on a phone-sized screen: an engineer claims an
offer, goes, checks in with the phone's position, works the checklist, has the customer
sign on the screen and completes; the customer follows the visit on the ETA link and
answers the survey. All under the CSP (no inline script) and without a JS error."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from frontline.field.models import ChecklistItem, WorkOrder, WorkOrderEvent
from frontline.field.states import WorkOrderStatus
from frontline.field.tests.factories_mobile import (  # noqa: F401 (fixture)
    _fresh_throttle,
    checklist_template,
    job,
    offered,
    survey_token,
    timeline_token,
)
from frontline.testing import factories as f

pytestmark = [pytest.mark.browser]

# A few metres from the SiteFactory's site (31.2034, 121.587).
NEAR_SITE = {"latitude": 31.20345, "longitude": 121.58705, "accuracy": 12}


def phone_context(chromium, live_server, *, located: bool):
    return chromium.new_context(
        base_url=live_server.url,
        locale="en-US",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        geolocation=NEAR_SITE,
        permissions=["geolocation"] if located else [],
    )


def open_phone(chromium, live_server, *, located: bool):
    """A phone page that records JS errors and CSP violations in ``page.js_errors``."""
    context = phone_context(chromium, live_server, located=located)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.js_errors = errors
    return context, page


@pytest.fixture
def phone(chromium, live_server):
    """A phone: 390×844, touch, location allowed and fixed near the site."""
    context, page = open_phone(chromium, live_server, located=True)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def phone_without_location(chromium, live_server):
    """The same phone before the engineer allowed location for the site."""
    context, page = open_phone(chromium, live_server, located=False)
    try:
        yield page
    finally:
        context.close()


def tap_submit(page, testid):
    with page.expect_navigation():
        page.click(f"[data-testid={testid}]")


def sign_on_canvas(page):
    pad = page.locator("[data-testid=signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 30, y + 120)
    page.mouse.down()
    for step in range(1, 25):
        page.mouse.move(x + 30 + step * 12, y + 120 + (20 if step % 2 else -20), steps=2)
    page.mouse.up()


@pytest.mark.django_db(transaction=True)
def test_an_engineer_claims_goes_checks_in_signs_and_completes_on_a_phone(phone, cast, sign_in):
    # Given a job with a two-item checklist on offer to the engineer
    checklist_template(["电源已断开", "压力正常"])
    wo = offered(cast)
    page = phone
    sign_in(page, "engineer@t.example", f.PASSWORD)

    # When they claim it from the offers list
    page.goto("/m/offers/")
    assert page.locator("[data-testid=offer]").count() == 1
    tap_submit(page, "claim")
    assert re.search(rf"/m/jobs/{wo.pk}/$", page.url)
    assert page.locator("[data-testid=status]").first.get_attribute("data-status") == "accepted"

    # ... go (the bottom bar's button), with the phone's position
    page.wait_for_selector("#travel-form[data-geo-state=found]")
    tap_submit(page, "bar-travel")
    assert page.locator("[data-testid=status]").first.get_attribute("data-status") == "en_route"
    # While on the way the page pings the position API (and says so)
    page.wait_for_selector("[data-ping-status][data-ping-state=on]")

    # ... check in on site
    tap_submit(page, "bar-check-in")
    assert page.locator("[data-testid=status]").first.get_attribute("data-status") == "on_site"
    assert page.locator("[data-testid=far-check-in]").count() == 0

    # ... tick the checklist: OK, then not applicable
    for result in ["ok", "na"]:
        item = page.locator("[data-testid=checklist-item][data-result=pending]").first
        with page.expect_navigation():
            item.locator(f"[data-testid=result-{result}]").tap()
    assert page.locator("[data-testid=checklist-item][data-result=pending]").count() == 0

    # ... an empty pad is refused in the page, a drawn signature is saved
    page.fill("[data-testid=sign-form] [name=signed_by]", "李经理")
    page.click("[data-testid=sign]")
    assert page.locator("[data-signature-msg]").inner_text().strip() != ""
    sign_on_canvas(page)
    tap_submit(page, "sign")
    assert page.locator("[data-testid=signed]").is_visible()

    # ... and complete
    page.select_option("#id_resolution_code", "fixed")
    page.fill("#id_resolution_notes", "更换压力传感器")
    tap_submit(page, "bar-complete")

    # Then the job is done, signed, checked in near the site and with a PNG signature
    assert page.url.endswith("/m/")
    assert "Job completed" in page.locator("[data-testid=message-success]").inner_text()
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.COMPLETED and wo.assignee == cast.engineer
    assert wo.signed_by == "李经理" and wo.signature.name.endswith(".png")
    assert wo.check_in_flagged is False and wo.check_in_distance_m < 100
    assert wo.check_out_latitude is not None
    assert set(ChecklistItem.objects.filter(work_order=wo).values_list("result", flat=True)) == {
        "ok",
        "na",
    }
    assert WorkOrderEvent.objects.filter(work_order=wo, kind="en_route").count() == 1
    assert page.js_errors == []


@pytest.mark.django_db(transaction=True)
def test_the_customer_follows_the_eta_link_and_answers_the_survey(phone, cast):
    # Given a visit on its way with an ETA, and the link the customer was emailed
    wo = job(cast, step="en_route", title="冷机高压报警")
    eta = timezone.now() + dt.timedelta(minutes=35)
    WorkOrder.objects.filter(pk=wo.pk).update(eta=eta)
    token = timeline_token(wo)
    page = phone

    # When the customer opens it (no login)
    response = page.goto(f"/t/{token}/")

    # Then they see the engineer's name and the ETA, on a private page
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert page.locator("[data-testid=engineer]").inner_text() == cast.engineer.display_name
    assert (
        page.locator("[data-testid=eta]")
        .inner_text()
        .startswith(timezone.localtime(eta).strftime("%H:%M"))
    )
    assert page.locator("[data-testid=visit-title]").inner_text().endswith("冷机高压报警")

    # And after the visit is closed, the survey link takes an answer once
    from frontline.field.tests.factories_mobile import advance

    advance(cast, wo, "closed", cast.engineer)
    page.goto(f"/s/{survey_token(wo)}/")
    page.click("[data-testid=csat-5]")
    page.click("[data-testid=nps-9]")
    page.fill("#id_comment", "准时，专业")
    tap_submit(page, "submit-survey")
    assert page.locator("[data-testid=survey-thanks]").is_visible()
    assert wo.survey.csat == 5 and wo.survey.nps == 9
    assert page.js_errors == []


@pytest.mark.django_db(transaction=True)
def test_without_location_permission_the_check_in_says_so_and_retries(
    phone_without_location, cast, sign_in
):
    # Given a job on the way, on a phone that has not allowed location
    wo = job(cast, step="en_route")
    page = phone_without_location
    sign_in(page, "engineer@t.example", f.PASSWORD)
    page.goto(f"/m/jobs/{wo.pk}/")

    # When the engineer taps check in
    page.wait_for_selector("#checkin-form[data-geo-state=denied]")
    page.click("[data-testid=bar-check-in]")

    # Then nothing is sent: the form says why and offers a retry
    page.wait_for_selector("#checkin-form[data-geo-state=denied]")
    status = page.locator("#checkin-form [data-geo-status]").inner_text()
    assert "Location permission was refused" in status
    assert page.locator("#checkin-form [data-testid=geo-retry]").is_visible()
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.EN_ROUTE

    # When location is allowed and they retry, the position comes and check-in works
    page.context.grant_permissions(["geolocation"])
    page.click("#checkin-form [data-testid=geo-retry]")
    page.wait_for_selector("#checkin-form[data-geo-state=found]")
    tap_submit(page, "bar-check-in")
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.ON_SITE and wo.check_in_flagged is False
    assert page.js_errors == []
