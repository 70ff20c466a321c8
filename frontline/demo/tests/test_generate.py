"""``frontline generate``: the counts asked for, consistent rows, the scoping invariants."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from frontline.accounts.models import Membership, User
from frontline.accounts.roles import Role
from frontline.desk import sla
from frontline.desk.models import SlaClock, Ticket, TicketEvent
from frontline.field.models import WorkOrder, WorkOrderEvent
from frontline.field.states import WorkOrderStatus
from frontline.inspections.models import PointVisit, Reading, Round
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

TICKETS, ORDERS, READINGS = 300, 80, 250


@pytest.fixture
def generated(db):
    call_command(
        "generate",
        tickets=TICKETS,
        work_orders=ORDERS,
        readings=READINGS,
        customers=2,
        agents=3,
        days=60,
        verbosity=0,
    )


def test_generated_data_is_consistent(generated):
    """One generation (the demo world takes seconds), every invariant checked on it."""
    _counts_as_asked()
    _tickets_are_whole()
    _sla_fields_are_what_the_rules_give()
    _a_customer_sees_only_their_organisations_tickets()
    _work_orders_and_rounds_are_consistent()


def _counts_as_asked():
    assert Ticket.objects.count() == TICKETS
    assert WorkOrder.objects.count() == ORDERS
    assert Reading.objects.count() == READINGS
    assert (
        Membership.objects.filter(role=Role.AGENT, user__email__startswith="gen-agent-").count()
        == 3
    )


def _tickets_are_whole():
    assert not Ticket.objects.filter(owner__isnull=True).exists()
    assert not Ticket.objects.annotate(n=Count("events")).filter(n=0).exists()
    assert TicketEvent.objects.filter(kind="created").count() == TICKETS
    # The contact and the project belong to the ticket's customer.
    assert not Ticket.objects.exclude(contact__membership__organization=F("customer")).exists()
    assert not Ticket.objects.exclude(project__customer=F("customer")).exists()
    # Stamps follow the lifecycle.
    assert not Ticket.objects.filter(status="closed", closed_at__isnull=True).exists()
    assert not Ticket.objects.filter(first_responded_at__lt=F("created_at")).exists()
    assert not Ticket.objects.filter(resolved_at__lt=F("first_responded_at")).exists()
    assert Ticket.objects.values("status").distinct().count() >= 3
    numbers = set(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == TICKETS


def _sla_fields_are_what_the_rules_give():
    # Deadlines do not depend on the moment of evaluation: recomputing them now gives
    # the stored ones; the sweep's clock holds exactly the tickets with a next check.
    now = timezone.now()
    for ticket in Ticket.objects.select_related("sla_policy__calendar").order_by("pk")[:60]:
        policy = sla.policy_for(ticket)
        result = sla.evaluate(ticket, policy=policy, pauses=[], now=now, explain=False)
        assert result.first_response_due_at == ticket.first_response_due_at
        assert result.resolution_due_at == ticket.resolution_due_at
    pending = set(
        Ticket.objects.filter(sla_next_check_at__isnull=False).values_list("pk", flat=True)
    )
    assert set(SlaClock.objects.values_list("ticket_id", flat=True)) == pending
    assert not Ticket.objects.filter(sla_state="breached", sla_breached_at__isnull=True).exists()


def _a_customer_sees_only_their_organisations_tickets():
    contacts = User.objects.filter(membership__role__in=[Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN])
    seen_any = False
    for contact in contacts[:6]:
        org = contact.membership.organization_id
        visible = Ticket.objects.visible_to(contact)
        assert not visible.exclude(customer_id=org).exists()
        assert visible.count() == Ticket.objects.filter(customer_id=org).count()
        seen_any = seen_any or visible.exists()
    assert seen_any


def _work_orders_and_rounds_are_consistent():
    assigned = WorkOrder.objects.exclude(
        status__in=[WorkOrderStatus.NEW, WorkOrderStatus.CANCELLED]
    )
    assert not assigned.filter(Q(assignee__isnull=True) | Q(dispatched_at__isnull=True)).exists()
    assert not WorkOrder.objects.filter(status="closed", closed_at__isnull=True).exists()
    assert WorkOrderEvent.objects.filter(kind="created").count() == ORDERS
    assert not WorkOrder.objects.exclude(project__customer=F("customer")).exists()
    # Readings answer items of the checkpoint visited, on the round's route.
    assert not Reading.objects.exclude(item__checkpoint=F("visit__checkpoint")).exists()
    assert not PointVisit.objects.exclude(checkpoint__route=F("round__route")).exists()
    for r in Round.objects.filter(status="completed").annotate(n=Count("visits"))[:50]:
        assert r.n == r.points_visited


def test_refuses_a_database_with_data_unless_appending(db):
    f.OrganizationFactory()
    with pytest.raises(CommandError, match="--append"):
        call_command("generate", tickets=1, verbosity=0)
