"""Redeeming coins: never more than one has, approval once, rejection, payroll export."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.incentives import redemptions
from frontline.incentives.awarding import award_points
from frontline.incentives.models import IncentiveSettings, LedgerEntry, Redemption
from frontline.incentives.states import EntryKind, RedemptionStatus, RuleEvent
from frontline.incentives.tests import helpers as h

pytestmark = pytest.mark.django_db


def earn(user, coins="10"):
    """Give ``user`` coins the honest way: a rule and a completed round."""
    rule = h.rule(points=10, coins=coins, name=f"完成巡检 {user.pk} {coins}")
    h.completed_round(user)
    award_points()
    return rule


def test_a_request_holds_coins_and_cannot_exceed_what_is_available(cast):
    # given an engineer with 10 coins and a rate of 2.5 CNY
    earn(cast.engineer, "10")
    IncentiveSettings.objects.update_or_create(pk=1, defaults={"coin_rate": Decimal("2.5")})
    # when they ask for 6, then for 5 more
    first = redemptions.request_redemption(actor=cast.engineer, coins="6")
    with pytest.raises(ValidationFailed) as exc:
        redemptions.request_redemption(actor=cast.engineer, coins="5")
    # then the first holds 6 at the rate of the day, the second is refused, nothing is spent yet
    assert (first.rate, first.cash_amount, first.currency) == (
        Decimal("2.5"),
        Decimal("15.00"),
        "CNY",
    )
    assert exc.value.code == "insufficient_coins"
    assert Redemption.objects.count() == 1
    assert h.wallet_of(cast.engineer)[1] == Decimal("10.00")


@pytest.mark.parametrize("coins", ["0", "-1", "abc", "1.001", "NaN", "1e9"])
def test_bad_amounts_are_refused(cast, coins):
    earn(cast.engineer)
    with pytest.raises(ValidationFailed):
        redemptions.request_redemption(actor=cast.engineer, coins=coins)
    assert not Redemption.objects.exists()


def test_customers_cannot_redeem(cast):
    with pytest.raises(PermissionDenied):
        redemptions.request_redemption(actor=cast.customer_a_user, coins="1")


def test_approving_twice_has_one_effect(cast):
    # given a request for 4 of 10 coins
    earn(cast.engineer, "10")
    r = redemptions.request_redemption(actor=cast.engineer, coins="4")
    # when a manager approves it twice
    redemptions.approve_redemption(actor=cast.manager, redemption=r)
    with pytest.raises(Conflict):
        redemptions.approve_redemption(actor=cast.manager, redemption=r)
    # then one negative entry, the wallet matches the ledger
    spent = LedgerEntry.objects.filter(kind=EntryKind.REDEMPTION)
    assert [(e.coins, e.source_id) for e in spent] == [(Decimal("-4.00"), r.pk)]
    assert h.wallet_of(cast.engineer) == h.ledger_sum(cast.engineer) == (10, Decimal("6.00"))
    r.refresh_from_db()
    assert (r.status, r.decided_by) == (RedemptionStatus.APPROVED, cast.manager)


def test_an_engineer_cannot_approve_their_own_request(cast):
    earn(cast.engineer)
    r = redemptions.request_redemption(actor=cast.engineer, coins="4")
    with pytest.raises(PermissionDenied):
        redemptions.approve_redemption(actor=cast.engineer, redemption=r)
    r.refresh_from_db()
    assert r.status == RedemptionStatus.REQUESTED
    assert not LedgerEntry.objects.filter(kind=EntryKind.REDEMPTION).exists()


def test_rejection_frees_the_held_coins(cast):
    earn(cast.engineer, "10")
    r = redemptions.request_redemption(actor=cast.engineer, coins="10")
    with pytest.raises(ValidationFailed):
        redemptions.reject_redemption(actor=cast.manager, redemption=r, reason=" ")
    redemptions.reject_redemption(actor=cast.manager, redemption=r, reason="本月预算已满")
    again = redemptions.request_redemption(actor=cast.engineer, coins="10")
    assert again.status == RedemptionStatus.REQUESTED
    assert AuditEntry.objects.filter(verb="reject").count() == 1


def test_approval_fails_when_penalties_ate_the_coins(cast):
    earn(cast.engineer, "10")
    r = redemptions.request_redemption(actor=cast.engineer, coins="10")
    h.rule(RuleEvent.ROUND_MISSED, points=-20, coins="-5")
    h.missed_round(cast.engineer)
    award_points()
    with pytest.raises(Conflict):
        redemptions.approve_redemption(actor=cast.manager, redemption=r)
    r.refresh_from_db()
    assert r.status == RedemptionStatus.REQUESTED


def test_payroll_export_neutralises_formulas_and_marks_exported(cast):
    # given an approved redemption of an engineer whose name is a formula
    cast.engineer.display_name = '=HYPERLINK("http://evil.example","点我")'
    cast.engineer.save()
    earn(cast.engineer, "10")
    r = redemptions.request_redemption(actor=cast.engineer, coins="4", note="+cmd|calc")
    waiting = redemptions.request_redemption(actor=cast.engineer, coins="1")
    redemptions.approve_redemption(actor=cast.manager, redemption=r)
    # when a manager exports
    data = redemptions.payroll_workbook(actor=cast.manager, redemptions=Redemption.objects.all())
    # then formulas are text, only approved ones are in, and they are marked exported
    ws = load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0] == "'" + cast.engineer.display_name
    assert rows[1][-1] == "'+cmd|calc"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    r.refresh_from_db()
    waiting.refresh_from_db()
    assert r.exported_at is not None and waiting.exported_at is None


def test_engineers_cannot_export(cast):
    with pytest.raises(PermissionDenied):
        redemptions.payroll_workbook(actor=cast.engineer, redemptions=Redemption.objects.all())
