"""Incentive pages: who sees and changes what, the forms, the export, query counts."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from frontline.incentives import redemptions
from frontline.incentives.awarding import award_points
from frontline.incentives.models import IncentiveSettings, PointRule, Redemption
from frontline.incentives.states import RedemptionStatus
from frontline.incentives.tests import helpers as h

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(cast):
    h.rule(points=10, coins="5", name="完成巡检")
    h.completed_round(cast.engineer)
    h.completed_round(cast.dispatcher)
    award_points()


@pytest.mark.parametrize(
    ("who", "status"),
    [("engineer", 200), ("manager", 200), ("partner_engineer", 200),
     ("customer_a_admin", 404), ("supplier_contact", 404), ("outsider", 404)],
)  # fmt: skip
@pytest.mark.parametrize("name", ["incentives:leaderboard", "incentives:my-points"])
def test_everyone_taking_part_sees_the_leaderboard_and_their_points(
    cast, client, who, status, name
):
    client.force_login(cast.by_role(who))
    assert client.get(reverse(name)).status_code == status


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("incentives:leaderboard"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_leaderboard_page_shows_the_month(cast, client, paid, django_assert_max_num_queries):
    client.force_login(cast.engineer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("incentives:leaderboard"), {"month": "garbage"})
    body = response.content.decode()
    assert body.count('data-testid="leaderboard-row"') == 2
    assert "工程师" in body and "调度员" in body


def test_my_points_history_and_redeeming(cast, client, paid, django_assert_max_num_queries):
    client.force_login(cast.engineer)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("incentives:my-points"))
    assert page.content.decode().count('data-testid="history-row"') == 1
    too_much = client.post(reverse("incentives:my-points"), {"coins": "6"})
    assert too_much.status_code == 400 and not Redemption.objects.exists()
    ok = client.post(reverse("incentives:my-points"), {"coins": "5", "note": "月底"})
    assert ok.status_code == 302
    assert Redemption.objects.get().coins == Decimal("5.00")


@pytest.mark.parametrize(
    ("who", "status"),
    [("manager", 200), ("engineer", 200), ("partner_engineer", 404), ("customer_a_admin", 404)],
)
def test_rules_page_is_for_operator_staff(cast, client, who, status, django_assert_max_num_queries):
    h.rule()
    client.force_login(cast.by_role(who))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("incentives:rule-list")).status_code == status


def test_a_manager_creates_and_edits_a_rule_on_the_page(cast, client):
    client.force_login(cast.manager)
    form = {
        "name": "漏检",
        "event": "round_missed",
        "points": "20",
        "coins": "0",
        "is_active": "on",
    }
    bad = client.post(reverse("incentives:rule-create"), form)
    assert bad.status_code == 200 and not PointRule.objects.exists()
    made = client.post(reverse("incentives:rule-create"), {**form, "points": "-20"})
    assert made.status_code == 302
    rule = PointRule.objects.get()
    client.post(reverse("incentives:rule-edit", args=[rule.pk]), {**form, "points": "-30"})
    rule.refresh_from_db()
    assert rule.points == -30


def test_an_engineer_cannot_create_or_edit_rules(cast, client):
    rule = h.rule(points=10)
    client.force_login(cast.engineer)
    assert client.get(reverse("incentives:rule-create")).status_code == 403
    edit = reverse("incentives:rule-edit", args=[rule.pk])
    form = {"name": "x", "event": "round_completed", "points": "999", "coins": "0"}
    assert client.post(edit, form).status_code == 403
    rule.refresh_from_db()
    assert rule.points == 10


def test_coin_rate_settings(cast, client):
    client.force_login(cast.engineer)
    assert (
        client.post(
            reverse("incentives:settings"), {"coin_rate": "9", "currency": "CNY"}
        ).status_code
        == 403
    )
    client.force_login(cast.manager)
    response = client.post(reverse("incentives:settings"), {"coin_rate": "0.5", "currency": "cny"})
    assert response.status_code == 302
    assert IncentiveSettings.current().coin_rate == Decimal("0.5")


def test_redemptions_page_and_decisions(cast, client, paid, django_assert_max_num_queries):
    r = redemptions.request_redemption(actor=cast.engineer, coins="5")
    other = redemptions.request_redemption(actor=cast.dispatcher, coins="1")
    # the engineer may not open the manager's page, nor approve
    client.force_login(cast.engineer)
    assert client.get(reverse("incentives:redemption-list")).status_code == 403
    approve = reverse("incentives:redemption-decide", args=[r.pk, "approve"])
    assert client.post(approve).status_code == 403
    assert (
        client.post(reverse("incentives:redemption-decide", args=[other.pk, "approve"])).status_code
        == 404
    )
    r.refresh_from_db()
    assert r.status == RedemptionStatus.REQUESTED
    # the manager lists, approves twice (one effect), rejects the other
    client.force_login(cast.manager)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("incentives:redemption-list"), {"status": "requested"})
    assert page.content.decode().count("data-redemption-id") == 2
    client.post(approve)
    client.post(approve)
    r.refresh_from_db()
    assert r.status == RedemptionStatus.APPROVED
    assert h.wallet_of(cast.engineer)[1] == Decimal("0.00")
    client.post(
        reverse("incentives:redemption-decide", args=[other.pk, "reject"]), {"reason": "重复"}
    )
    other.refresh_from_db()
    assert other.status == RedemptionStatus.REJECTED


def test_payroll_export_from_the_page(cast, client, paid):
    cast.engineer.display_name = "=1+1"
    cast.engineer.save()
    r = redemptions.request_redemption(actor=cast.engineer, coins="5")
    redemptions.approve_redemption(actor=cast.manager, redemption=r)
    client.force_login(cast.manager)
    response = client.get(
        reverse("incentives:redemption-export"),
        {"month": r.requested_at.astimezone().strftime("%Y-%m")},
    )
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][0] == "'=1+1"
    r.refresh_from_db()
    assert r.exported_at is not None
