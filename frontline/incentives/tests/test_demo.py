"""The incentives demo module: the rule book pays whatever history exists once, wallets
match the ledger, redemptions in each state; loading it again adds nothing."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from frontline.demo import incentives as demo
from frontline.incentives.models import LedgerEntry, PointRule, Redemption, Wallet
from frontline.incentives.states import EntryKind, RedemptionStatus
from frontline.incentives.tests import helpers as h
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(cast):
    """Six engineers with a few weeks of rounds, one missed round, a five-star survey."""
    crew = [cast.engineer] + [
        f.member("engineer", cast.operator, email=f"demo{i}@t.example") for i in range(5)
    ]
    route = h.fi.route(points=1)
    for n, user in enumerate(crew):
        for day in range(n + 3):
            h.completed_round(user, route=route, score="95", finished=h.ago(days=day + 1))
    h.missed_round(cast.engineer, route=route)
    h.survey(cast.engineer)
    return crew


def test_rules_pay_the_history_and_wallets_match(cast, history):
    result = demo.load()
    assert result["rules"] == len(demo.RULES) == PointRule.objects.count()
    kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
    assert {EntryKind.AWARD, EntryKind.PENALTY, EntryKind.REDEMPTION} <= kinds
    sums = {
        r["user_id"]: (r["p"], r["c"])
        for r in LedgerEntry.objects.values("user_id").annotate(p=Sum("points"), c=Sum("coins"))
    }
    wallets = {w.user_id: (w.points_balance, w.coins_balance) for w in Wallet.objects.all()}
    assert wallets == sums
    statuses = set(Redemption.objects.values_list("status", flat=True))
    assert statuses == set(RedemptionStatus.values)


def test_loading_again_adds_nothing(cast, history):
    demo.load()
    before = (LedgerEntry.objects.count(), Redemption.objects.count())
    again = demo.load()
    assert (again["rules"], again["entries"], again["redemptions"]) == (0, 0, 0)
    assert (LedgerEntry.objects.count(), Redemption.objects.count()) == before


def test_without_a_manager_it_does_nothing(db):
    assert demo.load() == {"rules": 0, "entries": 0, "redemptions": 0}
