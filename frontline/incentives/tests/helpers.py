"""Builders for incentive tests: rules straight in the table, and real source events
(rounds, anomalies, work orders, surveys, tickets) built with the apps' own factories."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from frontline.desk.states import SlaState, TicketStatus
from frontline.desk.tests.factories import ticket_for
from frontline.field.models import Survey
from frontline.field.states import WorkOrderStatus
from frontline.field.tests.factories import WorkOrderFactory
from frontline.incentives.models import LedgerEntry, PointRule, Wallet
from frontline.incentives.states import RuleEvent
from frontline.inspections.models import Anomaly
from frontline.inspections.states import AnomalySource, AnomalyStatus, RoundStatus
from frontline.inspections.tests import factories as fi


def rule(event=RuleEvent.ROUND_COMPLETED, points=10, coins="2", **kw) -> PointRule:
    kw.setdefault("name", f"规则 {event}")
    return PointRule.objects.create(event=event, points=points, coins=Decimal(coins), **kw)


def ago(**kw) -> dt.datetime:
    return timezone.now() - dt.timedelta(**kw)


def completed_round(engineer, *, route=None, score="92", finished=None, team=None):
    route = route or fi.route(points=1)
    finished = finished or ago(hours=1)
    return fi.round_for(
        route, engineer, opens=finished - dt.timedelta(hours=1), status=RoundStatus.COMPLETED,
        started_at=finished - dt.timedelta(minutes=50), finished_at=finished,
        quality_score=Decimal(score) if score is not None else None, team=team,
    )  # fmt: skip


def missed_round(engineer, *, route=None, closed=None):
    route = route or fi.route(points=1)
    closed = closed or ago(hours=2)
    return fi.round_for(
        route, engineer, opens=closed - dt.timedelta(hours=2), status=RoundStatus.MISSED
    )


def confirmed_anomaly(engineer, *, round_=None, status=AnomalyStatus.CONFIRMED):
    round_ = round_ or completed_round(engineer)
    cp = round_.route.checkpoints.first()
    at = ago(minutes=30)
    return Anomaly.objects.create(
        route=round_.route, project=round_.project, customer=round_.customer, checkpoint=cp,
        round=round_, source=AnomalySource.REPORTED, status=status, raised_at=at,
        last_seen_at=at, raised_by=engineer, confirmed_at=at, description="冷却水泄漏",
    )  # fmt: skip


def closed_order(engineer, *, first_time_fix=True, **kw):
    closed = ago(hours=1)
    return WorkOrderFactory(
        assignee=engineer, status=WorkOrderStatus.CLOSED, first_time_fix=first_time_fix,
        completed_at=closed - dt.timedelta(minutes=30), closed_at=closed, **kw,
    )  # fmt: skip


def survey(engineer, csat=5):
    order = closed_order(engineer)
    return Survey.objects.create(work_order=order, engineer=engineer, csat=csat, nps=9)


def resolved_ticket(cast, owner, *, breached=False):
    return ticket_for(
        cast, owner=owner, status=TicketStatus.RESOLVED, resolved_at=ago(hours=1),
        sla_state=SlaState.BREACHED if breached else SlaState.MET,
        sla_breached_at=ago(hours=2) if breached else None,
    )  # fmt: skip


def ledger_sum(user) -> tuple[int, Decimal]:
    agg = LedgerEntry.objects.filter(user=user).aggregate(p=Sum("points"), c=Sum("coins"))
    return agg["p"] or 0, agg["c"] or Decimal("0.00")


def wallet_of(user) -> tuple[int, Decimal]:
    w = Wallet.objects.filter(user=user).first()
    return (w.points_balance, w.coins_balance) if w else (0, Decimal("0.00"))
