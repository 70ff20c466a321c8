"""In a real browser on a phone-sized screen: an engineer checks the month's leaderboard
(cards that fit the screen), opens My points and asks to redeem coins; a manager approves
on the redemptions page. Under the CSP, without a JS error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from frontline.incentives.awarding import award_points
from frontline.incentives.models import Redemption
from frontline.incentives.states import RedemptionStatus
from frontline.incentives.tests import helpers as h
from frontline.testing import factories as f

pytestmark = [pytest.mark.browser]


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 390, "height": 844},
        device_scale_factor=2, is_mobile=True, has_touch=True,
    )  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.js_errors = errors
    try:
        yield page
    finally:
        context.close()


def test_engineer_sees_the_board_and_redeems_on_a_phone(cast, phone, page, sign_in):
    # given a month in which the engineer and a dispatcher completed rounds
    h.rule(points=10, coins="5", name="完成巡检")
    h.completed_round(cast.engineer)
    h.completed_round(cast.engineer)
    h.completed_round(cast.dispatcher)
    award_points()
    # when the engineer opens the leaderboard on the phone
    sign_in(phone, "engineer@t.example", f.PASSWORD)
    phone.goto("/incentives/")
    rows = phone.get_by_test_id("leaderboard-row")
    assert rows.count() == 2
    assert "工程师" in rows.first.inner_text() and "20" in rows.first.inner_text()
    # then the cards fit the screen (no sideways scrolling)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # and from My points they ask to redeem 6 coins
    phone.get_by_test_id("my-summary").click()
    assert phone.get_by_test_id("balance-coins").inner_text() == "10.00"
    phone.fill("input[name=coins]", "6")
    phone.get_by_test_id("redeem").click()
    phone.wait_for_load_state()
    assert "My redemptions" in phone.content()
    assert Redemption.objects.get().coins == Decimal("6.00")
    assert phone.js_errors == []
    # and a manager approves it on the redemptions page
    sign_in(page, "manager@t.example", f.PASSWORD)
    page.goto("/incentives/redemptions/")
    page.get_by_test_id("approve").click()
    page.wait_for_load_state()
    assert Redemption.objects.get().status == RedemptionStatus.APPROVED
    assert h.wallet_of(cast.engineer)[1] == Decimal("4.00")
    assert page.js_errors == []
