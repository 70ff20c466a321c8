"""The incentives API: role matrix, scoping, filters, balance, leaderboard, decisions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from frontline.incentives import redemptions
from frontline.incentives.awarding import award_points
from frontline.incentives.models import LedgerEntry, PointRule, Redemption
from frontline.incentives.states import EntryKind, RedemptionStatus, RuleEvent
from frontline.incentives.tests import helpers as h
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

RULES = "/api/v1/point-rules/"
POINTS = "/api/v1/points/"
BOARD = "/api/v1/leaderboard/"
REDEEM = "/api/v1/redemptions/"
NEW_RULE = {"name": "完成巡检", "event": "round_completed", "points": 10, "coins": "2.00"}


@pytest.fixture
def paid(cast):
    """The engineer and the dispatcher each paid for one completed round."""
    h.rule(points=10, coins="5")
    h.completed_round(cast.engineer)
    h.completed_round(cast.dispatcher)
    award_points()


@pytest.mark.parametrize(
    ("who", "status"),
    [("manager", 201), ("admin", 201), ("engineer", 403), ("dispatcher", 403),
     ("partner_engineer", 403), ("customer_a_admin", 403), ("outsider", 403)],
)  # fmt: skip
def test_only_managers_create_rules(cast, api, who, status):
    response = api.as_user(cast.by_role(who)).post(RULES, NEW_RULE, format="json")
    assert response.status_code == status, response.content
    assert PointRule.objects.count() == (1 if status == 201 else 0)


def test_rule_validation_is_the_services(cast, api):
    client = api.as_user(cast.manager)
    bad = {**NEW_RULE, "event": "round_missed"}
    response = client.post(RULES, bad, format="json")
    assert response.status_code == 400 and "points" in response.json()["fields"]
    quality = {**NEW_RULE, "event": "round_quality"}
    response = client.post(RULES, quality, format="json")
    assert "threshold" in response.json()["fields"]
    other = client.post(RULES, {**NEW_RULE, "project": 999999}, format="json")
    assert other.status_code == 400
    assert PointRule.objects.count() == 0


def test_an_engineer_reads_rules_but_cannot_change_them(cast, api):
    rule = h.rule(points=10)
    client = api.as_user(cast.engineer)
    assert client.get(RULES).json()["count"] == 1
    response = client.patch(f"{RULES}{rule.pk}/", {"points": 1000}, format="json")
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.points == 10


def test_a_manager_changes_a_rule(cast, api):
    rule = h.rule(points=10)
    response = api.as_user(cast.manager).patch(
        f"{RULES}{rule.pk}/", {"points": 12, "is_active": False}, format="json"
    )
    assert response.status_code == 200
    rule.refresh_from_db()
    assert (rule.points, rule.is_active) == (12, False)


def test_points_are_ones_own_and_managers_see_all(cast, api, paid):
    mine = api.as_user(cast.engineer).get(POINTS).json()
    assert [e["user"] for e in mine["results"]] == [cast.engineer.pk]
    other = LedgerEntry.objects.get(user=cast.dispatcher)
    assert api.as_user(cast.engineer).get(f"{POINTS}{other.pk}/").status_code == 404
    assert api.as_user(cast.manager).get(POINTS).json()["count"] == 2
    assert api.as_user(cast.customer_a_admin).get(POINTS).status_code == 403


def test_points_filters(cast, api, paid):
    client = api.as_user(cast.manager)
    month = h.ago(hours=1).astimezone().strftime("%Y-%m")
    by_user = client.get(POINTS, {"user": cast.engineer.pk}).json()
    assert by_user["count"] == 1
    assert client.get(POINTS, {"kind": EntryKind.PENALTY}).json()["count"] == 0
    assert client.get(POINTS, {"month": "2001-01"}).json()["count"] == 0
    assert client.get(POINTS, {"month": "nope"}).status_code == 400
    assert client.get(POINTS, {"colour": "red"}).status_code == 400
    assert client.get(POINTS, {"ordering": "password"}).status_code == 400
    assert client.get(POINTS, {"month": month}).status_code == 200


def test_own_balance(cast, api, paid):
    redemptions.request_redemption(actor=cast.engineer, coins="2")
    body = api.as_user(cast.engineer).get(f"{POINTS}balance/").json()
    assert body == {
        "points": 10,
        "coins": "5.00",
        "pending_coins": "2.00",
        "available_coins": "3.00",
        "coin_rate": "1.0000",
        "currency": "CNY",
    }


def test_leaderboard_endpoint(cast, api, paid):
    team = f.TeamFactory()
    body = api.as_user(cast.engineer).get(BOARD).json()
    assert [(r["rank"], r["points"], r["rounds_completed"]) for r in body["results"]] == [
        (1, 10, 1),
        (1, 10, 1),
    ]
    assert api.as_user(cast.engineer).get(BOARD, {"team": team.pk}).json()["results"] == []
    assert api.as_user(cast.engineer).get(BOARD, {"team": 99999}).status_code == 400
    assert api.as_user(cast.engineer).get(BOARD, {"month": "x"}).status_code == 400
    assert api.as_user(cast.engineer).get(BOARD, {"limit": "-1"}).status_code == 400
    assert api.as_user(cast.engineer).get(BOARD, {"sql": "1"}).status_code == 400
    assert api.as_user(cast.customer_a_admin).get(BOARD).status_code == 403


def test_request_and_approve_through_the_api(cast, api, paid):
    # given an engineer who asks for 3 coins (and may not name another user)
    client = api.as_user(cast.engineer)
    forged = client.post(REDEEM, {"coins": "3", "user": cast.dispatcher.pk}, format="json")
    assert forged.status_code == 400
    created = client.post(REDEEM, {"coins": "3", "note": "月底"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    too_much = client.post(REDEEM, {"coins": "3"}, format="json")
    assert too_much.status_code == 400
    # when the engineer tries to approve it: 403 and nothing changes
    assert client.post(f"{REDEEM}{pk}/approve/").status_code == 403
    assert Redemption.objects.get(pk=pk).status == RedemptionStatus.REQUESTED
    # and a manager approves twice: one effect, the second is a 409
    manager = api.as_user(cast.manager)
    assert manager.post(f"{REDEEM}{pk}/approve/").status_code == 200
    assert manager.post(f"{REDEEM}{pk}/approve/").status_code == 409
    assert LedgerEntry.objects.filter(kind=EntryKind.REDEMPTION).count() == 1
    # the dispatcher does not see the engineer's request
    assert api.as_user(cast.dispatcher).get(f"{REDEEM}{pk}/").status_code == 404


def test_reject_needs_a_reason(cast, api, paid):
    r = redemptions.request_redemption(actor=cast.engineer, coins="1")
    manager = api.as_user(cast.manager)
    assert manager.post(f"{REDEEM}{r.pk}/reject/", {}, format="json").status_code == 400
    done = manager.post(f"{REDEEM}{r.pk}/reject/", {"reason": "重复申请"}, format="json")
    assert done.json()["status"] == "rejected"


def test_export_is_for_approvers(cast, api, paid):
    r = redemptions.request_redemption(actor=cast.engineer, coins="1")
    redemptions.approve_redemption(actor=cast.manager, redemption=r)
    assert api.as_user(cast.engineer).get(f"{REDEEM}export/").status_code == 403
    response = api.as_user(cast.manager).get(f"{REDEEM}export/", {"status": "approved"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.parametrize("url", [RULES, POINTS, REDEEM])
def test_lists_read_a_bounded_number_of_queries(
    cast, api, url, django_assert_max_num_queries
):  # fmt: skip
    h.rule(points=10, coins="5")
    h.rule(RuleEvent.ROUND_QUALITY, points=5, coins="1", threshold=Decimal(80))
    for user in (cast.engineer, cast.dispatcher, cast.agent):
        for _ in range(3):
            h.completed_round(user)
    award_points()
    for user in (cast.engineer, cast.dispatcher):
        redemptions.request_redemption(actor=user, coins="1")
    client = api.as_user(cast.manager)
    with django_assert_max_num_queries(10):
        response = client.get(url)
    assert response.status_code == 200 and response.json()["count"] >= 2


def test_a_manager_corrects_an_entry_and_others_cannot(cast, api, paid):
    entry = LedgerEntry.objects.get(user=cast.engineer)
    url = f"{POINTS}{entry.pk}/correct/"
    assert api.as_user(cast.engineer).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api.as_user(cast.engineer).post(POINTS, {"points": 5}, format="json").status_code in (
        403,
        405,
    )
    assert LedgerEntry.objects.count() == 2
    manager = api.as_user(cast.manager)
    assert manager.post(POINTS, {"points": 5}, format="json").status_code == 405
    done = manager.post(url, {"reason": "重复计分"}, format="json")
    assert done.status_code == 201 and done.json()["points"] == -10
    assert manager.post(url, {"reason": "again"}, format="json").status_code == 409
    assert h.wallet_of(cast.engineer) == (0, Decimal("0.00"))


def test_leaderboard_reads_a_bounded_number_of_queries(cast, api, django_assert_max_num_queries):
    h.rule(points=10, coins="5")
    for i in range(8):
        user = f.member("engineer", cast.operator, email=f"lb{i}@t.example")
        h.completed_round(user)
    award_points()
    team = f.TeamFactory()
    client = api.as_user(cast.engineer)
    with django_assert_max_num_queries(6):
        response = client.get(BOARD, {"team": team.pk})
    assert response.status_code == 200
    with django_assert_max_num_queries(6):
        assert len(client.get(BOARD).json()["results"]) == 8
