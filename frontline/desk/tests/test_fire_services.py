"""Calls for fire: who is summoned, who is notified (once), joining, closing, bug briefs."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction

from frontline.accounts.roles import Role
from frontline.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from frontline.desk import fire
from frontline.desk.models import BugBrief, FireCall, FireSummons, SeverityLevel, TicketEvent
from frontline.desk.states import EventKind, Severity, TicketStatus
from frontline.desk.tests.factories import SeverityLevelFactory, TicketFactory
from frontline.notifications.models import Notification, OutboundEmail
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(cast):
    return TicketFactory(
        customer=cast.customer_a,
        owner=cast.agent,
        title="冷站停机",
        status=TicketStatus.IN_PROGRESS,
    )


def pks(users):
    return sorted(u.pk for u in users)


# ---------------------------------------------------------------- summoned_users


def test_summoned_users_fan_out_over_roles_teams_and_people_once_each(cast):
    # Given S2 summons managers, a team (with the dispatcher, a new engineer and a partner
    # engineer in it) and the dispatcher and a customer by name
    newcomer = f.member(Role.ENGINEER, email="new-eng@t.example")
    team = f.TeamFactory(name="冷站专家组")
    team.members.set([cast.dispatcher, newcomer, cast.partner_engineer])
    level = SeverityLevelFactory(
        severity=Severity.S2,
        summon_roles=[Role.MANAGER],
        summon_teams=[team],
        summon_users=[cast.dispatcher, cast.customer_a_user],
    )

    # When we ask who S2 summons
    people = list(fire.summoned_users(Severity.S2))

    # Then: the manager (role), the team's operator members, the named dispatcher, each once;
    # never the partner engineer or the named customer
    assert pks(people) == pks([cast.manager, cast.dispatcher, newcomer])
    assert pks(fire.summoned_users(level)) == pks(people)


def test_summoned_users_leave_out_inactive_people_and_inactive_teams(cast):
    # Given an inactive engineer and an inactive team that holds the agent
    cast.engineer.is_active = False
    cast.engineer.save()
    team = f.TeamFactory(name="已解散组", is_active=False)
    team.members.set([cast.agent])
    SeverityLevelFactory(
        severity=Severity.S1, summon_roles=[Role.ENGINEER, Role.ADMIN], summon_teams=[team]
    )

    # When / Then: only the active admin
    assert pks(fire.summoned_users("S1")) == [cast.admin.pk]


def test_summoned_users_ignore_customer_roles_stored_in_the_level(cast):
    SeverityLevelFactory(severity=Severity.S3, summon_roles=[Role.CUSTOMER_ADMIN, Role.AGENT])
    assert pks(fire.summoned_users("S3")) == [cast.agent.pk]


def test_a_level_without_configuration_summons_admins_and_managers(cast):
    assert not SeverityLevel.objects.exists()
    assert pks(fire.summoned_users("S4")) == pks([cast.admin, cast.manager])


# ---------------------------------------------------------------- call_fire


def test_calling_fire_summons_and_notifies_each_person_once_in_app_and_by_email(
    cast, ticket, django_capture_on_commit_callbacks
):
    # Given the default levels (S1: admin, manager, dispatcher, engineer)
    # When the agent calls fire at S1
    with django_capture_on_commit_callbacks(execute=True):
        call = fire.call_fire(actor=cast.agent, ticket=ticket, level="S1", message="冷站全停")

    # Then the ticket is on fire, the room has the summoned people and the caller
    ticket.refresh_from_db()
    assert ticket.fire_open and ticket.had_fire_call
    summoned = [cast.admin, cast.manager, cast.dispatcher, cast.engineer]
    rows = FireSummons.objects.filter(fire_call=call)
    assert pks(r.user for r in rows.filter(summoned=True)) == pks(summoned)
    caller = rows.get(user=cast.agent)
    assert caller.joined_at is not None and not caller.summoned
    # one internal FIRE_CALLED event
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.FIRE_CALLED)
    assert not event.public and event.data["level"] == "S1"
    # one inbox notification per summoned person, linking to the ticket; none for the caller
    notes = Notification.objects.filter(kind="desk.fire_called")
    assert pks(n.recipient for n in notes) == pks(summoned)
    assert all(n.url == ticket.get_absolute_url() and ticket.number in n.title for n in notes)
    # one email each, sent after commit
    assert OutboundEmail.objects.count() == 4
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in summoned)
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_the_summons_names_the_level_the_ticket_and_the_message(
    cast, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        fire.call_fire(actor=cast.agent, ticket=ticket, level="S1", message="冷站全停")
    note = Notification.objects.get(recipient=cast.manager)
    assert "S1 导弹 / missile" in note.title and ticket.number in note.title
    assert "冷站全停" in note.body and cast.customer_a.name in note.body
    message = next(m for m in mail.outbox if m.to == [cast.manager.email])
    assert message.subject == note.title
    assert f"{settings.SITE_URL}{ticket.get_absolute_url()}" in message.body


def test_nothing_is_sent_when_the_transaction_rolls_back(
    cast, ticket, django_capture_on_commit_callbacks
):
    # Given a business transaction that calls fire and then fails
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            fire.call_fire(actor=cast.agent, ticket=ticket, level="S1", message="冷站全停")
            raise RuntimeError("later step failed")

    # Then no call, no notification, no email, nothing scheduled
    assert callbacks == []
    assert not FireCall.objects.exists()
    assert not Notification.objects.exists() and not OutboundEmail.objects.exists()
    assert mail.outbox == []


def test_a_retried_notification_duplicates_nothing(
    cast, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call = fire.call_fire(actor=cast.agent, ticket=ticket, level="S1", message="冷站全停")
    # When the notification step runs again for the same call (a retried job)
    with django_capture_on_commit_callbacks(execute=True):
        fire._notify_summoned(
            call=call,
            ticket=ticket,
            actor=cast.agent,
            people=list(fire.summoned_users("S1")),
            text="冷站全停",
        )
    # Then still one notification and one email per person
    assert Notification.objects.count() == 4
    assert OutboundEmail.objects.count() == 4
    assert len(mail.outbox) == 4


def test_calling_again_at_the_same_level_is_a_conflict_and_changes_nothing(cast, ticket):
    fire.call_fire(actor=cast.agent, ticket=ticket, level="S2", message="第一次")
    with pytest.raises(Conflict):
        fire.call_fire(actor=cast.engineer, ticket=ticket, level="S2", message="第二次")
    with pytest.raises(Conflict):
        fire.call_fire(actor=cast.engineer, ticket=ticket, level="S3", message="更低")
    assert FireCall.objects.count() == 1
    assert TicketEvent.objects.filter(kind=EventKind.FIRE_CALLED).count() == 1


def test_calling_at_a_more_severe_level_escalates_and_notifies_only_the_newly_summoned(
    cast, ticket, django_capture_on_commit_callbacks
):
    # Given an open S2 call (manager, dispatcher, engineer summoned)
    with django_capture_on_commit_callbacks(execute=True):
        call = fire.call_fire(actor=cast.agent, ticket=ticket, level="S2", message="降级")
    assert len(mail.outbox) == 3

    # When the dispatcher escalates to S1 (adds the admin)
    with django_capture_on_commit_callbacks(execute=True):
        again = fire.call_fire(actor=cast.dispatcher, ticket=ticket, level="S1", message="全停")

    # Then the same call, now S1; only the admin is newly notified
    assert again.pk == call.pk
    call.refresh_from_db()
    assert call.level == "S1"
    assert len(mail.outbox) == 4 and mail.outbox[-1].to == [cast.admin.email]
    assert Notification.objects.filter(recipient=cast.admin).count() == 1
    events = TicketEvent.objects.filter(kind=EventKind.FIRE_CALLED).order_by("pk")
    assert [e.data["escalated_from"] for e in events] == [None, "S2"]


@pytest.mark.parametrize(
    "actor, error",
    [
        ("customer_a_user", PermissionDenied),  # sees the ticket, may not call fire
        ("customer_b_admin", NotFound),  # another customer's ticket does not exist for them
        ("partner_engineer", NotFound),
        ("outsider", NotFound),
    ],
)
def test_only_operator_staff_call_fire(cast, ticket, actor, error):
    with pytest.raises(error):
        fire.call_fire(actor=cast.by_role(actor), ticket=ticket, level="S1", message="x")
    ticket.refresh_from_db()
    assert not ticket.fire_open and not FireCall.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "level, message, field",
    [("S9", "冷站全停", "level"), ("S1", "   ", "message"), ("S1", "<script></script>", "message")],
)
def test_level_and_message_are_validated(cast, ticket, level, message, field):
    with pytest.raises(ValidationFailed) as exc:
        fire.call_fire(actor=cast.agent, ticket=ticket, level=level, message=message)
    assert field in exc.value.fields
    assert not FireCall.objects.exists()


def test_the_message_is_stored_as_plain_text(cast, ticket):
    call = fire.call_fire(
        actor=cast.agent,
        ticket=ticket,
        level="S3",
        message='<img src=x onerror="alert(1)">冷站 <b>停</b>',
    )
    assert call.message == "冷站 停"
    event = TicketEvent.objects.get(kind=EventKind.FIRE_CALLED)
    assert "onerror" not in event.body


def test_no_fire_on_a_resolved_ticket(cast):
    done = TicketFactory(customer=cast.customer_a, owner=cast.agent, status=TicketStatus.RESOLVED)
    with pytest.raises(Conflict):
        fire.call_fire(actor=cast.agent, ticket=done, level="S1", message="太晚了")
    assert not FireCall.objects.exists()


# ---------------------------------------------------------------- join and close


def test_joining_is_idempotent_and_makes_the_joiner_a_watcher(cast, ticket):
    call = fire.call_fire(actor=cast.agent, ticket=ticket, level="S3", message="x")
    # The analyst was not summoned at S3, joins anyway, twice
    first = fire.join_fire(actor=cast.analyst, fire_call=call)
    second = fire.join_fire(actor=cast.analyst, fire_call=call)
    assert first.pk == second.pk and first.joined_at == second.joined_at
    assert not first.summoned
    assert TicketEvent.objects.filter(kind=EventKind.FIRE_JOINED).count() == 1
    assert ticket.watchers.filter(pk=cast.analyst.pk).exists()


def test_a_summoned_person_joining_keeps_their_summons(cast, ticket):
    call = fire.call_fire(actor=cast.agent, ticket=ticket, level="S3", message="x")
    summons = fire.join_fire(actor=cast.dispatcher, fire_call=call)
    assert summons.summoned and summons.joined_at is not None
    assert FireSummons.objects.filter(fire_call=call, user=cast.dispatcher).count() == 1


@pytest.mark.parametrize("actor", ["customer_a_user", "partner_admin", "outsider"])
def test_outsiders_cannot_join(cast, ticket, actor):
    call = fire.call_fire(actor=cast.agent, ticket=ticket, level="S3", message="x")
    with pytest.raises(NotFound):
        fire.join_fire(actor=cast.by_role(actor), fire_call=call)
    assert not FireSummons.objects.filter(user=cast.by_role(actor)).exists()


def test_closing_on_resolve_ends_the_call_and_joining_is_then_refused(cast, ticket):
    call = fire.call_fire(actor=cast.agent, ticket=ticket, level="S2", message="x")
    assert fire.close_fire_calls(actor=cast.agent, ticket=ticket) == 1
    assert fire.close_fire_calls(actor=cast.agent, ticket=ticket) == 0
    call.refresh_from_db()
    ticket.refresh_from_db()
    assert call.closed_at is not None
    assert not ticket.fire_open and ticket.had_fire_call
    assert TicketEvent.objects.filter(kind=EventKind.FIRE_CLOSED).count() == 1
    with pytest.raises(Conflict):
        fire.join_fire(actor=cast.analyst, fire_call=call)
    # A new call is possible after the old one closed
    assert fire.call_fire(actor=cast.agent, ticket=ticket, level="S3", message="又起").pk != call.pk


# ---------------------------------------------------------------- bug briefs

BRIEF = {
    "symptom": "冷水机组停机",
    "impact": "洁净区温度上升",
    "scope": "一号厂区",
    "workaround": "",
    "root_cause": "变频器故障",
    "fix": "更换变频器",
    "prevention": "每季度巡检变频器",
}


def test_a_brief_is_required_to_resolve_after_fire_and_can_be_rewritten(cast, ticket):
    fire.call_fire(actor=cast.agent, ticket=ticket, level="S2", message="x")
    ticket.refresh_from_db()
    with pytest.raises(ValidationFailed) as exc:
        fire.check_brief_before_resolving(ticket)
    assert exc.value.code == "brief_required"

    brief = fire.write_brief(actor=cast.engineer, ticket=ticket, **BRIEF)
    fire.check_brief_before_resolving(ticket)  # no longer raises
    again = fire.write_brief(actor=cast.agent, ticket=ticket, **{**BRIEF, "fix": "更换并校准"})
    assert again.pk == brief.pk and again.fix == "更换并校准" and again.author == cast.agent
    assert BugBrief.objects.count() == 1
    # unchanged rewrite writes no event
    fire.write_brief(actor=cast.agent, ticket=ticket, **{**BRIEF, "fix": "更换并校准"})
    assert TicketEvent.objects.filter(kind=EventKind.BRIEF).count() == 2


def test_brief_fields_are_required_except_the_workaround(cast, ticket):
    empty = dict.fromkeys(BRIEF, " ")
    with pytest.raises(ValidationFailed) as exc:
        fire.write_brief(actor=cast.agent, ticket=ticket, **empty)
    assert set(exc.value.fields) == set(BRIEF) - {"workaround"}
    assert not BugBrief.objects.exists()


@pytest.mark.parametrize(
    "actor, error",
    [
        ("analyst", PermissionDenied),
        ("customer_a_user", PermissionDenied),
        ("customer_b_admin", NotFound),
    ],
)
def test_only_people_who_work_tickets_write_briefs(cast, ticket, actor, error):
    with pytest.raises(error):
        fire.write_brief(actor=cast.by_role(actor), ticket=ticket, **BRIEF)
    assert not BugBrief.objects.exists()
