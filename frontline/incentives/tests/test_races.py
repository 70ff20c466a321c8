"""Incentive races on PostgreSQL with real threads: coins never overdrawn, one approval,
award runs at once pay each event once and keep wallets equal to the ledger."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest

from frontline.core.errors import Conflict, ValidationFailed
from frontline.incentives import redemptions
from frontline.incentives.awarding import award_points
from frontline.incentives.models import LedgerEntry, Redemption
from frontline.incentives.states import EntryKind, RuleEvent
from frontline.incentives.tests import helpers as h
from frontline.testing.races import run_together

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]


def test_twenty_concurrent_requests_never_overdraw(cast):
    # Given an engineer with 10 coins
    h.rule(points=10, coins="10")
    h.completed_round(cast.engineer)
    award_points()
    # When twenty requests of 3 coins arrive at once
    results = run_together(
        *(
            partial(redemptions.request_redemption, actor=cast.engineer, coins="3")
            for _ in range(20)
        )
    )
    # Then exactly three are held (9 ≤ 10) and the rest are refused
    made = [r for r in results if isinstance(r, Redemption)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert (len(made), len(refused)) == (3, 17), results
    assert redemptions.pending_coins(cast.engineer) == Decimal("9.00")


def test_two_managers_approve_at_once_and_it_happens_once(cast):
    h.rule(points=10, coins="10")
    h.completed_round(cast.engineer)
    award_points()
    r = redemptions.request_redemption(actor=cast.engineer, coins="4")
    results = run_together(
        partial(redemptions.approve_redemption, actor=cast.manager, redemption=r),
        partial(redemptions.approve_redemption, actor=cast.admin, redemption=r),
    )
    assert sorted(type(x).__name__ for x in results) == ["Conflict", "Redemption"], results
    assert any(isinstance(x, Conflict) for x in results)
    assert LedgerEntry.objects.filter(kind=EntryKind.REDEMPTION).count() == 1
    assert h.wallet_of(cast.engineer) == h.ledger_sum(cast.engineer) == (10, Decimal("6.00"))


def test_award_runs_at_once_pay_each_event_once(cast):
    h.rule(points=10, coins="2")
    h.rule(RuleEvent.ROUND_QUALITY, points=5, coins="1", threshold=Decimal(90))
    for _ in range(10):
        h.completed_round(cast.engineer, score="95")
    results = run_together(*(award_points for _ in range(4)))
    assert all(isinstance(r, int) for r in results), results
    assert LedgerEntry.objects.count() == 20
    assert h.wallet_of(cast.engineer) == h.ledger_sum(cast.engineer) == (150, Decimal("30.00"))
