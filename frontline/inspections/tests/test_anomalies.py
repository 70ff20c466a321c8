"""Anomalies: raised once per checkpoint and item, followed up by the route's rule,
confirmed, dismissed, handled, and synced with their work order or ticket."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction

from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.desk.models import Ticket
from frontline.field.models import WorkOrder
from frontline.inspections import anomalies, rounds
from frontline.inspections.models import Anomaly
from frontline.inspections.states import AnomalyAction, AnomalyStatus
from frontline.inspections.tests import factories as fi
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def hot_visit(engineer, route, code="P01", value=15):
    rnd = fi.round_for(route, engineer)
    cp = route.checkpoints.get(code=code)
    temp, pressure, leak = list(cp.items.order_by("position"))
    readings = [
        {"item": temp.pk, "value": value},
        {"item": pressure.pk, "value": 0.3},
        {"item": leak.pk, "value": False},
    ]
    rounds.record_visit(
        actor=engineer, round=rnd, checkpoint=cp, readings=readings, client_id=str(uuid.uuid4())
    )
    return rnd, cp, temp


def test_a_second_round_adds_an_occurrence_not_a_duplicate(cast):
    route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.WORK_ORDER)
    first, cp, temp = hot_visit(cast.engineer, route)
    second, _cp, _t = hot_visit(cast.engineer, route, value=16)
    anomaly = Anomaly.objects.get()
    assert anomaly.occurrences == 2 and anomaly.round_id == second.pk
    assert anomaly.value.startswith("16")
    # and one follow-up only
    assert WorkOrder.objects.count() == 1


def test_a_handled_anomaly_lets_a_new_one_open(cast):
    route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.NONE)
    hot_visit(cast.engineer, route)
    a = Anomaly.objects.get()
    anomalies.handle_anomaly(actor=cast.dispatcher, anomaly=a, resolution="换了传感器")
    hot_visit(cast.engineer, route)
    assert Anomaly.objects.count() == 2
    assert Anomaly.objects.filter(status=AnomalyStatus.OPEN).count() == 1


def test_database_refuses_a_second_unhandled_anomaly(cast):
    route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.NONE)
    hot_visit(cast.engineer, route)
    a = Anomaly.objects.get()
    a.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        a.save()


def test_failed_yes_no_check_is_a_failed_check(cast):
    route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.NONE)
    rnd = fi.round_for(route, cast.engineer)
    cp = route.checkpoints.get(code="P01")
    temp, pressure, leak = list(cp.items.order_by("position"))
    rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=cp, readings=[
        {"item": temp.pk, "value": 7}, {"item": pressure.pk, "value": 0.3},
        {"item": leak.pk, "value": True}])  # fmt: skip
    a = Anomaly.objects.get()
    assert a.item_id == leak.pk and a.source == "failed_check"


def test_ticket_rule_opens_a_ticket_at_mapped_severity(cast):
    route = fi.route(
        customer=cast.customer_a, anomaly_action=AnomalyAction.TICKET, anomaly_priority="urgent"
    )
    hot_visit(cast.engineer, route)
    a = Anomaly.objects.get()
    ticket = Ticket.objects.get()
    assert a.ticket_id == ticket.pk and ticket.severity == "S1"
    assert ticket.channel == "api" and ticket.customer_id == cast.customer_a.pk
    assert ticket.external_ref == f"inspection-anomaly:{a.pk}"
    # the engineer does not become the ticket's owner
    assert ticket.owner_id != cast.engineer.pk


def test_follow_up_failure_keeps_the_visit(cast, monkeypatch):
    route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.WORK_ORDER)

    def boom(*a, **k):
        raise ValidationFailed("no")

    monkeypatch.setattr(anomalies, "_open_work_order", boom)
    rnd, cp, temp = hot_visit(cast.engineer, route)
    a = Anomaly.objects.get()
    assert a.work_order_id is None
    rnd.refresh_from_db()
    assert rnd.points_visited == 1


def test_report_and_manual_follow_up(cast):
    route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.NONE)
    rnd = fi.round_for(route, cast.engineer)
    cp = route.checkpoints.get(code="P02")
    with pytest.raises(PermissionDenied):
        anomalies.report_anomaly(
            actor=cast.customer_a_user, round=rnd, checkpoint=cp, description="漏油"
        )
    with pytest.raises(ValidationFailed):
        anomalies.report_anomaly(actor=cast.engineer, round=rnd, checkpoint=cp, description=" ")
    other_cp = fi.route(customer=cast.customer_a).checkpoints.first()
    with pytest.raises(ValidationFailed):
        anomalies.report_anomaly(
            actor=cast.engineer, round=rnd, checkpoint=other_cp, description="漏油"
        )
    a = anomalies.report_anomaly(
        actor=cast.engineer, round=rnd, checkpoint=cp, description="<b>漏油</b>", priority="high"
    )
    assert a.source == "reported" and a.priority == "high" and a.raised_by_id == cast.engineer.pk
    # An analyst (no dispatch rights) may open the follow-up the route does not open itself
    a = anomalies.open_follow_up(actor=cast.analyst, anomaly=a, action=AnomalyAction.WORK_ORDER)
    wo = WorkOrder.objects.get()
    assert a.work_order_id == wo.pk and "<b>" not in wo.description
    # Idempotent
    again = anomalies.open_follow_up(actor=cast.analyst, anomaly=a, action=AnomalyAction.WORK_ORDER)
    assert again.work_order_id == wo.pk and WorkOrder.objects.count() == 1
    # Another engineer may not
    other = f.member("engineer", cast.operator, email="x@t.example")
    with pytest.raises(PermissionDenied):
        anomalies.open_follow_up(actor=other, anomaly=a, action=AnomalyAction.TICKET)


def test_transitions_are_checked_and_audited(cast):
    route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.NONE)
    hot_visit(cast.engineer, route)
    a = Anomaly.objects.get()
    with pytest.raises(PermissionDenied):
        anomalies.confirm_anomaly(actor=cast.engineer, anomaly=a)
    a.refresh_from_db()
    assert a.status == AnomalyStatus.OPEN
    a = anomalies.confirm_anomaly(actor=cast.analyst, anomaly=a)
    assert a.status == AnomalyStatus.CONFIRMED and a.confirmed_by_id == cast.analyst.pk
    with pytest.raises(Conflict):
        anomalies.confirm_anomaly(actor=cast.analyst, anomaly=a)
    with pytest.raises(ValidationFailed):
        anomalies.dismiss_anomaly(actor=cast.manager, anomaly=a, reason="")
    a = anomalies.dismiss_anomaly(actor=cast.manager, anomaly=a, reason="传感器故障，误报")
    assert a.status == AnomalyStatus.DISMISSED and a.resolution == "传感器故障，误报"
    with pytest.raises(Conflict):
        anomalies.handle_anomaly(actor=cast.manager, anomaly=a, resolution="x")
    verbs = list(AuditEntry.objects.filter(object_id=str(a.pk)).values_list("verb", flat=True))
    assert "confirm" in verbs and "dismiss" in verbs


def test_sync_outcomes_from_work_orders_and_tickets(cast):
    wo_route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.WORK_ORDER)
    t_route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.TICKET)
    hot_visit(cast.engineer, wo_route)
    hot_visit(cast.engineer, t_route)
    assert anomalies.sync_anomaly_outcomes() == 0
    WorkOrder.objects.update(status="completed")
    Ticket.objects.update(status="resolved")
    assert anomalies.sync_anomaly_outcomes() == 2
    assert set(Anomaly.objects.values_list("status", flat=True)) == {AnomalyStatus.HANDLED}
    assert all(Anomaly.objects.values_list("handled_at", flat=True))
    assert anomalies.sync_anomaly_outcomes() == 0


def test_follow_up_of_opens_only_follow_ups_for_the_finder(cast):
    # Given an anomaly the engineer found, on a route that records only
    from frontline.field.orders import create_work_order

    route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.NONE)
    hot_visit(cast.engineer, route)
    a = Anomaly.objects.get()
    where = {"title": "x", "site": route.site, "customer": cast.customer_a}
    # Then it does not let them open other kinds of work, nor without the anomaly
    with pytest.raises(PermissionDenied):
        create_work_order(actor=cast.engineer, type="repair", follow_up_of=a, **where)
    with pytest.raises(PermissionDenied):
        create_work_order(actor=cast.engineer, type="inspection_follow_up", **where)
    # nor another engineer, nor a customer, with it
    other = f.member("engineer", cast.operator, email="y@t.example")
    for actor in (other, cast.customer_a_admin, cast.partner_engineer):
        with pytest.raises(PermissionDenied):
            create_work_order(actor=actor, type="inspection_follow_up", follow_up_of=a, **where)
    assert WorkOrder.objects.count() == 0
    wo = create_work_order(actor=cast.engineer, type="inspection_follow_up", follow_up_of=a,
                           **where)  # fmt: skip
    assert wo.created_by_id == cast.engineer.pk
