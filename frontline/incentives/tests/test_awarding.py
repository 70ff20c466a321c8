"""The award scanner: each event pays its rule once, penalties, corrections, wallets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from frontline.incentives.awarding import award_points
from frontline.incentives.models import LedgerEntry
from frontline.incentives.states import EntryKind, RuleEvent, SourceType
from frontline.incentives.tests import helpers as h
from frontline.inspections.models import Round
from frontline.inspections.states import AnomalyStatus
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def test_a_completed_round_pays_once_however_often_the_scanner_runs(cast):
    # given a rule and a round the engineer completed
    rule = h.rule(RuleEvent.ROUND_COMPLETED, points=10, coins="2")
    rnd = h.completed_round(cast.engineer)
    # when the scanner runs twice
    first = award_points()
    second = award_points()
    # then one entry, on the round's finish time, and the wallet shows it
    assert (first, second) == (1, 0)
    entry = LedgerEntry.objects.get()
    assert (entry.rule, entry.source_type, entry.source_id) == (rule, SourceType.ROUND, rnd.pk)
    assert (entry.points, entry.coins, entry.kind) == (10, Decimal("2.00"), EntryKind.AWARD)
    assert entry.occurred_at == rnd.finished_at
    assert h.wallet_of(cast.engineer) == (10, Decimal("2.00"))


def test_two_rules_for_one_source_both_pay(cast):
    h.rule(RuleEvent.ROUND_COMPLETED, points=10, coins="2")
    h.rule(RuleEvent.ROUND_QUALITY, points=5, coins="1", threshold=Decimal("90"))
    h.completed_round(cast.engineer, score="95")
    award_points()
    award_points()
    assert LedgerEntry.objects.count() == 2
    assert h.wallet_of(cast.engineer) == (15, Decimal("3.00"))


def test_quality_below_the_threshold_earns_nothing(cast):
    h.rule(RuleEvent.ROUND_QUALITY, points=5, threshold=Decimal("90"))
    h.completed_round(cast.engineer, score="89.99")
    assert award_points() == 0


def test_a_missed_round_is_a_penalty(cast):
    h.rule(RuleEvent.ROUND_MISSED, points=-20, coins="0")
    rnd = h.missed_round(cast.engineer)
    award_points()
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.points, entry.occurred_at) == (
        EntryKind.PENALTY,
        -20,
        rnd.window_end,
    )
    assert h.wallet_of(cast.engineer)[0] == -20


@pytest.mark.parametrize(
    ("status", "pays"),
    [
        (AnomalyStatus.CONFIRMED, True),
        (AnomalyStatus.HANDLED, True),
        (AnomalyStatus.DISMISSED, False),
    ],
)
def test_a_confirmed_anomaly_pays_whoever_found_it(cast, status, pays):
    h.rule(RuleEvent.ANOMALY_CONFIRMED, points=8, coins="1")
    anomaly = h.confirmed_anomaly(cast.engineer, status=status)
    award_points()
    entries = list(LedgerEntry.objects.values_list("user", "source_type", "source_id"))
    assert entries == ([(cast.engineer.pk, SourceType.ANOMALY, anomaly.pk)] if pays else [])


def test_first_time_fix_pays_only_without_a_revisit(cast):
    h.rule(RuleEvent.FIRST_TIME_FIX, points=15, coins="3")
    fixed = h.closed_order(cast.engineer)
    came_back = h.closed_order(cast.engineer)
    h.closed_order(cast.engineer, revisit_of=came_back, site=came_back.site)
    h.closed_order(cast.engineer, first_time_fix=False)
    award_points()
    assert list(LedgerEntry.objects.values_list("source_id", flat=True)) == [fixed.pk]


@pytest.mark.parametrize(("score", "pays"), [(5, True), (4, False)])
def test_csat_five_pays_the_engineer(cast, score, pays):
    h.rule(RuleEvent.CSAT, points=10, coins="2")
    survey = h.survey(cast.engineer, csat=score)
    award_points()
    assert list(LedgerEntry.objects.values_list("source_type", "source_id")) == (
        [(SourceType.SURVEY, survey.pk)] if pays else []
    )


@pytest.mark.parametrize(("breached", "pays"), [(False, True), (True, False)])
def test_sla_met_pays_the_ticket_owner(cast, breached, pays):
    h.rule(RuleEvent.SLA_MET, points=3, coins="0.5")
    ticket = h.resolved_ticket(cast, cast.agent, breached=breached)
    award_points()
    assert list(LedgerEntry.objects.values_list("user", "source_id")) == (
        [(cast.agent.pk, ticket.pk)] if pays else []
    )


def test_rule_limits_project_team_period_and_active(cast):
    # given rules limited in four ways, and one round that fits none of them
    team = f.TeamFactory()
    other_team = f.TeamFactory()
    team.members.add(cast.engineer)
    rnd = h.completed_round(cast.engineer, team=None)
    h.rule(project=f.ProjectFactory())
    h.rule(team=other_team)
    h.rule(valid_until=timezone.localdate() - dt.timedelta(days=2))
    h.rule(is_active=False)
    fits = h.rule(team=team, project=rnd.project)
    # when the scanner runs
    award_points()
    # then only the rule that fits pays, with the engineer's team as the snapshot
    entry = LedgerEntry.objects.get()
    assert (entry.rule, entry.team, entry.project) == (fits, team, rnd.project)


def test_events_before_the_window_wait_for_an_explicit_since(cast):
    h.rule()
    h.completed_round(cast.engineer, finished=h.ago(days=30))
    assert award_points() == 0
    assert award_points(since=h.ago(days=60)) == 1


def test_a_lowered_quality_score_is_reversed_by_a_correction_and_restored_later(cast):
    # given a round paid for quality 95
    h.rule(RuleEvent.ROUND_QUALITY, points=5, coins="1", threshold=Decimal("90"))
    rnd = h.completed_round(cast.engineer, score="95")
    award_points()
    paid = LedgerEntry.objects.get()
    # when an analyst lowers the score below the threshold
    Round.objects.filter(pk=rnd.pk).update(
        quality_score=Decimal("80"), quality_adjusted_at=timezone.now()
    )
    award_points()
    award_points()
    # then a correction takes it back; the paid entry is untouched
    fix = LedgerEntry.objects.exclude(pk=paid.pk).get()
    assert (fix.kind, fix.points, fix.coins, fix.revision) == (
        EntryKind.CORRECTION,
        -5,
        Decimal("-1.00"),
        1,
    )
    assert LedgerEntry.objects.get(pk=paid.pk).points == 5
    assert h.wallet_of(cast.engineer) == (0, Decimal("0.00"))
    # and lifting it again pays again, once
    Round.objects.filter(pk=rnd.pk).update(
        quality_score=Decimal("91"), quality_adjusted_at=timezone.now()
    )
    award_points()
    award_points()
    assert LedgerEntry.objects.count() == 3
    assert h.wallet_of(cast.engineer) == (5, Decimal("1.00"))


def test_wallet_always_equals_the_ledger_sum(cast):
    h.rule(RuleEvent.ROUND_COMPLETED, points=10, coins="2")
    h.rule(RuleEvent.ROUND_MISSED, points=-20, coins="-1")
    h.rule(RuleEvent.CSAT, points=10, coins="2.5")
    for _ in range(3):
        h.completed_round(cast.engineer)
    h.missed_round(cast.engineer)
    h.survey(cast.engineer)
    h.completed_round(cast.dispatcher)
    award_points()
    award_points()
    for user in (cast.engineer, cast.dispatcher):
        assert h.wallet_of(user) == h.ledger_sum(user)
    assert h.wallet_of(cast.engineer) == (20, Decimal("7.50"))


def test_the_ledger_refuses_edits_and_deletes(cast):
    h.rule()
    h.completed_round(cast.engineer)
    award_points()
    entry = LedgerEntry.objects.get()
    entry.points = 1000
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    with pytest.raises(ValueError):
        LedgerEntry.objects.update(points=1000)
    with pytest.raises(ValueError):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get().points == 10


def test_an_idle_run_reads_a_bounded_number_of_queries(cast, django_assert_max_num_queries):
    for event in RuleEvent.values:
        h.rule(event, points=-1 if event == RuleEvent.ROUND_MISSED else 1, coins="0",
               threshold=Decimal(1) if event in ("round_quality", "csat") else None)  # fmt: skip
    for _ in range(5):
        h.completed_round(cast.engineer)
    award_points()
    with django_assert_max_num_queries(12):
        assert award_points() == 0


def test_a_revisit_after_payment_reverses_the_first_time_fix(cast):
    # given a work order paid as fixed first time
    h.rule(RuleEvent.FIRST_TIME_FIX, points=15, coins="3")
    order = h.closed_order(cast.engineer)
    award_points()
    # when a revisit is opened for it and the scanner runs twice
    h.closed_order(cast.engineer, revisit_of=order, site=order.site)
    award_points()
    award_points()
    # then one reversal, and the wallet is back to zero
    fix = LedgerEntry.objects.get(kind=EntryKind.CORRECTION)
    assert (fix.source_id, fix.points, fix.coins, fix.revision) == (
        order.pk,
        -15,
        Decimal("-3.00"),
        1,
    )
    assert h.wallet_of(cast.engineer) == (0, Decimal("0.00"))


def test_the_beat_task_runs_the_scanner(cast):
    from frontline.incentives.tasks import award_points as task

    h.rule()
    h.completed_round(cast.engineer)
    assert task.apply().get() == 1
