"""Opening tickets: numbering, who owns a new ticket, what a customer may set, idempotency."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from frontline.accounts.roles import Role
from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.desk import tickets
from frontline.desk.models import Ticket, TicketEvent
from frontline.desk.states import Channel, EventKind, Severity, SlaState, TicketStatus, Tier
from frontline.desk.tests import factories as df
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(cast):
    return df.Places(cast)


def test_a_customer_opens_a_portal_ticket_for_their_own_organisation(cast, places):
    # Given a customer user of company A
    # When they open a ticket naming their site and asset
    ticket = tickets.create_ticket(
        actor=cast.customer_a_user,
        title="  1# 冷水机组   报警 ",
        description='<p>出水温度高<script>alert(1)</script><img src=x onerror="alert(2)"></p>',
        site=places.site_a,
        asset=places.asset_a,
        project=places.project_a,
        channel=Channel.EMAIL,
    )

    # Then it belongs to A with them as contact, through the portal, numbered from its id
    ticket.refresh_from_db()
    assert ticket.customer == cast.customer_a
    assert ticket.contact == cast.customer_a_user
    assert ticket.channel == Channel.PORTAL
    assert ticket.number == f"T-{ticket.pk:06d}"
    assert ticket.title == "1# 冷水机组 报警"
    assert "script" not in ticket.description and "onerror" not in ticket.description
    assert ticket.status == TicketStatus.NEW and ticket.tier == Tier.L1
    # nobody on our side has handled it yet: the intake owner holds it
    assert ticket.first_handled_at is None
    assert ticket.owner == cast.agent
    assert ticket.created_by == cast.customer_a_user
    created = TicketEvent.objects.get(ticket=ticket)
    assert created.kind == EventKind.CREATED and created.public


def test_numbers_are_unique_and_follow_the_ids(cast):
    first = tickets.create_ticket(actor=cast.customer_a_user, title="一")
    second = tickets.create_ticket(actor=cast.customer_a_user, title="二")
    assert first.number != second.number
    assert second.number == f"T-{second.pk:06d}"


def test_a_customer_picking_s3_with_no_level_configured_is_allowed_but_s1_is_not(cast):
    ok = tickets.create_ticket(actor=cast.customer_a_user, title="问题", severity=Severity.S4)
    assert ok.severity == Severity.S4

    with pytest.raises(ValidationFailed) as exc:
        tickets.create_ticket(actor=cast.customer_a_user, title="停产", severity=Severity.S1)
    assert "severity" in exc.value.fields
    assert Ticket.objects.count() == 1


def test_the_severity_levels_say_which_severities_the_portal_offers(cast):
    # Given S2 is offered to customers and S4 is not
    df.SeverityLevelFactory(severity=Severity.S2, customer_may_choose=True)
    df.SeverityLevelFactory(severity=Severity.S4, customer_may_choose=False)

    assert (
        tickets.create_ticket(
            actor=cast.customer_a_user, title="严重", severity=Severity.S2
        ).severity
        == Severity.S2
    )
    with pytest.raises(ValidationFailed):
        tickets.create_ticket(actor=cast.customer_a_user, title="咨询", severity=Severity.S4)


@pytest.mark.parametrize("field", ["owner", "team", "tags", "contact", "customer"])
def test_a_customer_cannot_set_internal_fields(cast, field):
    # Given values only staff may set
    values = {
        "owner": cast.engineer,
        "team": f.TeamFactory(lead=cast.engineer),
        "tags": ["vip"],
        "contact": cast.customer_a_admin,
        "customer": cast.customer_b,
    }
    # When a customer sends one of them
    with pytest.raises(ValidationFailed) as exc:
        tickets.create_ticket(actor=cast.customer_a_user, title="x", **{field: values[field]})

    # Then it is a field error and nothing is created
    assert field in exc.value.fields
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("field", ["site", "project", "asset"])
def test_a_customer_cannot_point_at_another_organisations_records(cast, places, field):
    other = {"site": places.site_b, "project": places.project_b, "asset": places.asset_b}
    with pytest.raises(ValidationFailed) as exc:
        tickets.create_ticket(actor=cast.customer_a_user, title="x", **{field: other[field]})
    assert field in exc.value.fields
    assert not Ticket.objects.exists()


def test_an_asset_must_be_at_the_chosen_site(cast, places):
    with pytest.raises(ValidationFailed) as exc:
        tickets.create_ticket(
            actor=cast.agent,
            title="x",
            customer=cast.customer_a,
            site=places.other_site_a,
            asset=places.asset_a,
        )
    assert "asset" in exc.value.fields


def test_an_asset_without_a_site_brings_its_site(cast, places):
    ticket = tickets.create_ticket(
        actor=cast.agent, title="x", customer=cast.customer_a, asset=places.asset_a
    )
    assert ticket.site == places.site_a


def test_staff_taking_a_phone_call_own_the_ticket_at_once(cast):
    # When an agent records a phone call for customer B
    ticket = tickets.create_ticket(
        actor=cast.agent,
        title="机房空调故障",
        customer=cast.customer_b,
        contact=cast.customer_b_admin,
        channel=Channel.PHONE,
        severity=Severity.S1,
        tags=["空调", "空调", " 紧急 "],
    )

    # Then they own it and have handled it
    assert ticket.owner == cast.agent
    assert ticket.first_handled_at is not None
    assert ticket.channel == Channel.PHONE and ticket.severity == Severity.S1
    assert sorted(t.name for t in ticket.tags.all()) == ["空调", "紧急"]


def test_staff_must_name_a_customer_organisation(cast):
    with pytest.raises(ValidationFailed) as exc:
        tickets.create_ticket(actor=cast.agent, title="x", customer=cast.partner)
    assert "customer" in exc.value.fields
    with pytest.raises(ValidationFailed):
        tickets.create_ticket(actor=cast.agent, title="x")


def test_a_contact_must_belong_to_the_customer(cast):
    with pytest.raises(ValidationFailed) as exc:
        tickets.create_ticket(
            actor=cast.agent, title="x", customer=cast.customer_a, contact=cast.customer_b_admin
        )
    assert "contact" in exc.value.fields


def test_only_a_dispatcher_gives_a_new_ticket_to_someone_else(cast):
    with pytest.raises(ValidationFailed) as exc:
        tickets.create_ticket(
            actor=cast.agent, title="x", customer=cast.customer_a, owner=cast.engineer
        )
    assert "owner" in exc.value.fields

    ticket = tickets.create_ticket(
        actor=cast.dispatcher, title="x", customer=cast.customer_a, owner=cast.engineer
    )
    assert ticket.owner == cast.engineer and ticket.first_handled_at is not None


@pytest.mark.parametrize("who", ["partner_admin", "supplier_contact", "outsider", "analyst"])
def test_people_who_neither_work_nor_submit_tickets_cannot_open_one(cast, who):
    with pytest.raises(PermissionDenied):
        tickets.create_ticket(actor=cast.by_role(who), title="x", customer=cast.customer_a)
    assert not Ticket.objects.exists()


def test_the_team_lead_owns_a_new_ticket_of_the_team(cast):
    team = f.TeamFactory(lead=cast.engineer)
    ticket = tickets.create_ticket(actor=None, title="IoT 报警", customer=cast.customer_a,
                                   channel=Channel.IOT, team=team)  # fmt: skip
    assert ticket.owner == cast.engineer and ticket.first_handled_at is None


def test_the_intake_person_owns_new_portal_tickets(cast, settings):
    settings.DESK_INTAKE_EMAIL = cast.engineer.email.upper()
    ticket = tickets.create_ticket(actor=cast.customer_a_user, title="x")
    assert ticket.owner == cast.engineer


def test_without_agents_an_admin_owns_new_tickets_and_without_anyone_it_is_refused(cast):
    # Given the only agent has left
    cast.agent.is_active = False
    cast.agent.save()
    assert tickets.create_ticket(actor=cast.customer_a_user, title="x").owner == cast.admin

    cast.admin.membership.role = Role.QUALITY_ANALYST
    cast.admin.membership.save()
    with pytest.raises(ValidationFailed) as exc:
        tickets.create_ticket(actor=cast.customer_a_user, title="y")
    assert exc.value.code == "no_owner"


def test_the_same_external_reference_returns_the_first_ticket(cast):
    # Given an email already became a ticket
    first = tickets.create_ticket(actor=None, title="邮件", customer=cast.customer_a,
                                  channel=Channel.EMAIL, external_ref="<m1@mail>")  # fmt: skip

    # When the same message is delivered again
    again = tickets.create_ticket(actor=None, title="邮件（重复）", customer=cast.customer_a,
                                  channel=Channel.EMAIL, external_ref="<m1@mail>")  # fmt: skip

    # Then no second ticket exists
    assert again.pk == first.pk and again.replayed
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.filter(kind=EventKind.CREATED).count() == 1
    # another channel or customer is another ticket
    other = tickets.create_ticket(actor=None, title="x", customer=cast.customer_b,
                                  channel=Channel.EMAIL, external_ref="<m1@mail>")  # fmt: skip
    assert other.pk != first.pk


def test_a_lost_external_reference_race_returns_the_winner(cast, monkeypatch):
    # Given the duplicate pre-check misses a ticket that another request just inserted
    winner = df.ticket_for(cast, channel=Channel.PORTAL, external_ref="req-1")
    calls = []
    real = tickets._existing

    def miss_first(*args):
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(tickets, "_existing", miss_first)

    # When the insert hits the unique constraint
    result = tickets.create_ticket(actor=cast.customer_a_user, title="x", external_ref="req-1")

    # Then the caller gets the existing ticket
    assert result.pk == winner.pk
    assert Ticket.objects.count() == 1


def test_the_database_refuses_a_ticket_without_an_owner(cast):
    ticket = df.ticket_for(cast)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(owner=None)
    ticket.refresh_from_db()
    assert ticket.owner == cast.agent


def test_creating_a_ticket_recomputes_its_sla(cast, places, monkeypatch):
    seen = []
    monkeypatch.setattr("frontline.desk.sla.recompute", lambda t, now=None: seen.append(t.pk))
    ticket = tickets.create_ticket(actor=cast.customer_a_user, title="x", project=places.project_a)
    assert seen == [ticket.pk]


def test_a_new_ticket_notifies_its_owner(cast):
    from frontline.notifications.models import Notification

    ticket = tickets.create_ticket(actor=cast.customer_a_user, title="新问题")
    assert Notification.objects.filter(recipient=cast.agent, kind="ticket_created").count() == 1
    assert ticket.sla_state in SlaState.values
