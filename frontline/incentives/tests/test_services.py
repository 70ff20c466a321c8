"""Rule and settings services, manual corrections, and who sees which rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.incentives import services
from frontline.incentives.awarding import award_points
from frontline.incentives.models import (
    IncentiveSettings,
    LedgerEntry,
    PointRule,
    Redemption,
    Wallet,
)
from frontline.incentives.redemptions import request_redemption
from frontline.incentives.states import EntryKind, RuleEvent
from frontline.incentives.tests import helpers as h
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def test_a_manager_creates_updates_and_deactivates_a_rule_all_audited(cast):
    rule = services.create_rule(
        actor=cast.manager, name=" 完成巡检 ", event=RuleEvent.ROUND_COMPLETED, points=10,
        coins=Decimal("2"),
    )  # fmt: skip
    services.update_rule(actor=cast.manager, rule=rule, points=12)
    services.deactivate_rule(actor=cast.manager, rule=rule)
    rule.refresh_from_db()
    assert (rule.name, rule.points, rule.is_active) == ("完成巡检", 12, False)
    assert AuditEntry.objects.filter(object_id=str(rule.pk)).count() == 3


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"event": RuleEvent.ROUND_MISSED, "points": 20}, "points"),
        ({"event": RuleEvent.ROUND_COMPLETED, "points": -5}, "points"),
        ({"points": 0, "coins": Decimal(0)}, "points"),
        ({"event": RuleEvent.ROUND_QUALITY, "threshold": None}, "threshold"),
        ({"event": RuleEvent.ROUND_QUALITY, "threshold": Decimal(101)}, "threshold"),
        ({"event": RuleEvent.CSAT, "threshold": Decimal(6)}, "threshold"),
        ({"coins": Decimal("0.001")}, "coins"),
        ({"points": 10**9}, "points"),
        ({"name": ""}, "name"),
        ({"event": "bogus"}, "event"),
    ],
)
def test_bad_rules_are_refused_with_the_field_named(cast, changes, field):
    data = {"name": "规则", "event": RuleEvent.ROUND_COMPLETED, "points": 10, **changes}
    with pytest.raises(ValidationFailed) as exc:
        services.create_rule(actor=cast.manager, **data)
    assert field in exc.value.fields
    assert not PointRule.objects.exists()


def test_csat_threshold_defaults_to_five(cast):
    rule = services.create_rule(actor=cast.manager, name="五星", event=RuleEvent.CSAT, points=10)
    assert rule.threshold == Decimal(5)


@pytest.mark.parametrize(
    "who", ["engineer", "dispatcher", "analyst", "partner_admin", "customer_a_admin"]
)
def test_only_managers_change_rules(cast, who):
    rule = h.rule(points=10)
    actor = cast.by_role(who)
    with pytest.raises(PermissionDenied):
        services.create_rule(actor=actor, name="x", event=RuleEvent.ROUND_COMPLETED, points=1)
    with pytest.raises(PermissionDenied):
        services.update_rule(actor=actor, rule=rule, points=1000)
    with pytest.raises(PermissionDenied):
        services.update_settings(actor=actor, coin_rate="100")
    rule.refresh_from_db()
    assert rule.points == 10 and PointRule.objects.count() == 1
    assert IncentiveSettings.current().coin_rate == Decimal(1)


def test_update_refuses_unknown_fields(cast):
    rule = h.rule()
    with pytest.raises(ValidationFailed):
        services.update_rule(actor=cast.manager, rule=rule, created_by=cast.engineer)


@pytest.mark.parametrize(
    ("rate", "currency"), [("-1", "CNY"), ("x", "CNY"), ("1", "元"), ("0.00001", "CNY")]
)
def test_bad_settings_are_refused(cast, rate, currency):
    with pytest.raises(ValidationFailed):
        services.update_settings(actor=cast.manager, coin_rate=rate, currency=currency)


def test_a_manual_correction_reverses_once(cast):
    h.rule(points=10, coins="2")
    h.completed_round(cast.engineer)
    award_points()
    paid = LedgerEntry.objects.get()
    with pytest.raises(PermissionDenied):
        services.correct_entry(actor=cast.engineer, entry=paid, reason="错发")
    fix = services.correct_entry(actor=cast.manager, entry=paid, reason="重复计分")
    with pytest.raises(Conflict):
        services.correct_entry(actor=cast.manager, entry=paid, reason="again")
    assert (fix.kind, fix.points, fix.coins, fix.revision) == (
        EntryKind.CORRECTION,
        -10,
        Decimal("-2.00"),
        1,
    )
    assert h.wallet_of(cast.engineer) == h.ledger_sum(cast.engineer) == (0, Decimal("0.00"))


def test_who_sees_which_rows(cast):
    # given entries, wallets and requests of an operator engineer and a partner engineer
    h.rule(points=10, coins="5")
    h.rule(RuleEvent.FIRST_TIME_FIX, points=15, coins="3")
    h.completed_round(cast.engineer)
    h.closed_order(cast.partner_engineer, partner=cast.partner)
    award_points()
    request_redemption(actor=cast.engineer, coins="1")
    request_redemption(actor=cast.partner_engineer, coins="1")
    models = (LedgerEntry, Wallet, Redemption)

    def seen(user):
        return [set(m.objects.visible_to(user).values_list("user_id", flat=True)) for m in models]

    both = {cast.engineer.pk, cast.partner_engineer.pk}
    assert seen(cast.manager) == [both] * 3
    assert seen(cast.admin) == [both] * 3
    assert seen(cast.engineer) == [{cast.engineer.pk}] * 3
    assert seen(cast.partner_engineer) == [{cast.partner_engineer.pk}] * 3
    assert seen(cast.dispatcher) == [set()] * 3
    for nobody in (
        cast.customer_a_admin,
        cast.customer_b_admin,
        cast.supplier_contact,
        cast.outsider,
    ):
        assert seen(nobody) == [set()] * 3
        assert not PointRule.objects.visible_to(nobody).exists()
        assert not IncentiveSettings.objects.visible_to(nobody).exists()
    assert PointRule.objects.visible_to(cast.engineer).count() == 2
    assert not PointRule.objects.visible_to(cast.partner_engineer).exists()


def test_an_inactive_team_cannot_limit_a_rule(cast):
    team = f.TeamFactory(is_active=False)
    with pytest.raises(ValidationFailed):
        services.create_rule(
            actor=cast.manager, name="x", event=RuleEvent.ROUND_COMPLETED, points=1, team=team
        )


def test_a_project_with_ledger_entries_cannot_be_deleted(cast):
    from django.db.models import ProtectedError

    h.rule()
    rnd = h.completed_round(cast.engineer)
    award_points()
    with pytest.raises(ProtectedError):
        f.ProjectFactory._meta.model.objects.filter(pk=rnd.project_id).delete()
    assert LedgerEntry.objects.get().project_id == rnd.project_id
