"""Problem services: numbering, linking in one transaction, transitions, resolve with a reply."""

from __future__ import annotations

import datetime as dt

import pytest

from frontline.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.desk import problems as svc
from frontline.desk.models import Problem, Ticket, TicketEvent
from frontline.desk.models.problems import PROBLEM_TRANSITIONS, ProblemStatus
from frontline.desk.states import EventKind, TicketStatus
from frontline.desk.tests.factories import ticket_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(cast):
    """Two tickets of customer A and one of customer B about the same chiller fault."""
    return [
        ticket_for(cast, title="1# 冷机高压报警"),
        ticket_for(cast, title="2# 冷机高压报警"),
        ticket_for(cast, customer=cast.customer_b, title="机房冷机跳机"),
    ]


def events(ticket, kind):
    return TicketEvent.objects.filter(ticket=ticket, kind=kind)


# ---------------------------------------------------------------- create


def test_create_numbers_from_id_and_links_tickets_with_internal_events(cast, tickets):
    # Given three tickets with the same root cause
    # When the manager opens a problem from them
    problem = svc.create_problem(
        actor=cast.manager,
        title="冷却塔风机变频器固件缺陷",
        tickets=[t.pk for t in tickets],
        attribution="implementation",
        fix_owner=cast.engineer,
        fix_due_on=dt.date(2026, 7, 1),
    )
    # Then it is numbered from its id and every ticket points at it with one internal event
    assert problem.number == f"P-{problem.pk:04d}"
    assert Problem.objects.get(pk=problem.pk).number == problem.number
    assert set(Ticket.objects.filter(problem=problem)) == set(tickets)
    for ticket in tickets:
        (event,) = events(ticket, EventKind.PROBLEM)
        assert event.public is False
        assert event.data["problem"] == problem.pk
    entry = AuditEntry.objects.get(object_id=str(problem.pk), action="create")
    assert entry.changes["tickets"][1] == sorted(t.number for t in tickets)


def test_create_with_a_ticket_linked_elsewhere_changes_nothing(cast, tickets):
    # Given a ticket already grouped under another problem
    first = svc.create_problem(actor=cast.manager, title="第一个问题", tickets=[tickets[0]])
    # When someone opens a second problem with it
    with pytest.raises(ValidationFailed) as exc:
        svc.create_problem(actor=cast.agent, title="第二个", tickets=[tickets[0], tickets[1]])
    # Then it is refused and nothing was created or linked
    assert first.number in str(exc.value.message)
    assert Problem.objects.count() == 1
    assert Ticket.objects.get(pk=tickets[1].pk).problem_id is None
    assert not events(tickets[1], EventKind.PROBLEM).exists()


@pytest.mark.parametrize("role", ["dispatcher", "engineer", "analyst"])
def test_staff_without_the_capability_cannot_create(cast, tickets, role):
    with pytest.raises(PermissionDenied):
        svc.create_problem(actor=cast.by_role(role), title="x", tickets=[tickets[0]])
    assert not Problem.objects.exists()


@pytest.mark.parametrize("role", ["customer_a_admin", "partner_admin", "outsider"])
def test_non_staff_are_told_it_does_not_exist(cast, role):
    with pytest.raises(NotFound):
        svc.create_problem(actor=cast.by_role(role), title="x")


def test_unknown_ticket_ids_are_field_errors(cast):
    with pytest.raises(ValidationFailed) as exc:
        svc.create_problem(actor=cast.manager, title="x", tickets=[999999, "abc"])
    assert "tickets" in exc.value.fields
    assert not Problem.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "attribution": "astrology"}, "attribution"),
        ({"title": "ok", "fix_due_on": "tomorrow"}, "fix_due_on"),
    ],
)
def test_invalid_values_are_reported_by_field(cast, values, field):
    with pytest.raises(ValidationFailed) as exc:
        svc.create_problem(actor=cast.manager, **values)
    assert field in exc.value.fields
    assert not Problem.objects.exists()


def test_fix_owner_must_be_operator_staff(cast):
    with pytest.raises(ValidationFailed) as exc:
        svc.create_problem(actor=cast.manager, title="x", fix_owner=cast.customer_a_admin)
    assert "fix_owner" in exc.value.fields


# ---------------------------------------------------------------- update, link, unlink


def test_update_audits_old_and_new(cast):
    problem = svc.create_problem(actor=cast.manager, title="旧标题")
    svc.update_problem(actor=cast.agent, problem=problem, title="新标题", fix_plan="升级固件")
    problem.refresh_from_db()
    assert (problem.title, problem.fix_plan) == ("新标题", "升级固件")
    entry = AuditEntry.objects.get(object_id=str(problem.pk), action="update")
    assert entry.changes["title"] == ["旧标题", "新标题"]


def test_update_refuses_other_fields(cast):
    problem = svc.create_problem(actor=cast.manager, title="x")
    with pytest.raises(ValidationFailed) as exc:
        svc.update_problem(actor=cast.manager, problem=problem, status="closed")
    assert "status" in exc.value.fields
    assert Problem.objects.get(pk=problem.pk).status == ProblemStatus.OPEN


def test_link_then_unlink_writes_an_event_each_time(cast, tickets):
    problem = svc.create_problem(actor=cast.manager, title="x")
    linked = svc.link_tickets(actor=cast.agent, problem=problem, tickets=tickets[:2])
    assert {t.pk for t in linked} == {tickets[0].pk, tickets[1].pk}
    # Linking the same ticket again is a no-op
    assert svc.link_tickets(actor=cast.agent, problem=problem, tickets=[tickets[0]]) == []
    svc.unlink_ticket(actor=cast.agent, problem=problem, ticket=tickets[0])
    assert Ticket.objects.get(pk=tickets[0].pk).problem_id is None
    kinds = [e.data["linked"] for e in events(tickets[0], EventKind.PROBLEM)]
    assert kinds == [True, False]


def test_unlink_a_ticket_of_another_problem_is_refused(cast, tickets):
    one = svc.create_problem(actor=cast.manager, title="one", tickets=[tickets[0]])
    two = svc.create_problem(actor=cast.manager, title="two")
    with pytest.raises(ValidationFailed):
        svc.unlink_ticket(actor=cast.manager, problem=two, ticket=tickets[0])
    assert Ticket.objects.get(pk=tickets[0].pk).problem_id == one.pk


def test_no_links_to_a_closed_problem(cast, tickets):
    problem = svc.create_problem(actor=cast.manager, title="x")
    svc.resolve_problem(actor=cast.manager, problem=problem)
    svc.transition_problem(actor=cast.manager, problem=problem, to_status=ProblemStatus.CLOSED)
    with pytest.raises(Conflict):
        svc.link_tickets(actor=cast.manager, problem=problem, tickets=[tickets[0]])
    assert Ticket.objects.get(pk=tickets[0].pk).problem_id is None


# ---------------------------------------------------------------- transitions


@pytest.mark.parametrize("current", ProblemStatus.values)
@pytest.mark.parametrize("target", ProblemStatus.values)
def test_transition_table_is_enforced(cast, current, target):
    # Given a problem in ``current``
    problem = svc.create_problem(actor=cast.manager, title="x")
    Problem.objects.filter(pk=problem.pk).update(status=current)
    problem.refresh_from_db()
    allowed = target in PROBLEM_TRANSITIONS[current]
    # When it is moved to ``target``
    if allowed:
        svc.transition_problem(actor=cast.manager, problem=problem, to_status=target)
        # Then it is there
        assert Problem.objects.get(pk=problem.pk).status == target
    else:
        with pytest.raises(Conflict) as exc:
            svc.transition_problem(actor=cast.manager, problem=problem, to_status=target)
        # Then it stays, and the error lists what is allowed
        assert exc.value.code == "illegal_transition"
        assert exc.value.fields["allowed"] == sorted(PROBLEM_TRANSITIONS[current])
        assert Problem.objects.get(pk=problem.pk).status == current


def test_resolved_at_is_stamped_and_cleared_on_reinvestigation(cast):
    problem = svc.create_problem(actor=cast.manager, title="x")
    svc.transition_problem(actor=cast.manager, problem=problem, to_status="resolved")
    assert Problem.objects.get(pk=problem.pk).resolved_at is not None
    svc.transition_problem(actor=cast.manager, problem=problem, to_status="investigating")
    assert Problem.objects.get(pk=problem.pk).resolved_at is None


def test_unknown_status_is_a_validation_error(cast):
    problem = svc.create_problem(actor=cast.manager, title="x")
    with pytest.raises(ValidationFailed):
        svc.transition_problem(actor=cast.manager, problem=problem, to_status="done")


# ---------------------------------------------------------------- resolve


def test_resolve_posts_exactly_one_public_reply_per_linked_ticket(cast, tickets):
    # Given a problem with three linked tickets (one closed already) and one unrelated ticket
    Ticket.objects.filter(pk=tickets[2].pk).update(status=TicketStatus.CLOSED)
    unrelated = ticket_for(cast, title="无关工单")
    problem = svc.create_problem(actor=cast.manager, title="x", tickets=tickets)
    # When the manager resolves it with a public reply
    done = svc.resolve_problem(
        actor=cast.manager, problem=problem, public_reply="固件已升级，问题已根治。"
    )
    # Then it is resolved and each linked ticket got exactly one public reply
    assert done.status == ProblemStatus.RESOLVED and done.resolved_at is not None
    for ticket in tickets:
        replies = events(ticket, EventKind.REPLY)
        assert replies.count() == 1
        assert replies.get().public is True
        assert "根治" in replies.get().body
    assert not events(unrelated, EventKind.REPLY).exists()


def test_resolve_without_reply_writes_to_nobody(cast, tickets):
    problem = svc.create_problem(actor=cast.manager, title="x", tickets=tickets[:2])
    svc.resolve_problem(actor=cast.manager, problem=problem, public_reply="   ")
    assert not TicketEvent.objects.filter(kind=EventKind.REPLY).exists()


def test_resolving_twice_is_a_conflict_and_posts_nothing_more(cast, tickets):
    problem = svc.create_problem(actor=cast.manager, title="x", tickets=tickets[:1])
    svc.resolve_problem(actor=cast.manager, problem=problem, public_reply="已修复")
    with pytest.raises(Conflict):
        svc.resolve_problem(actor=cast.manager, problem=problem, public_reply="再说一次")
    assert events(tickets[0], EventKind.REPLY).count() == 1


def test_a_failing_reply_rolls_back_the_resolution(cast, tickets, monkeypatch):
    from frontline.desk import tickets as ticket_services

    problem = svc.create_problem(actor=cast.manager, title="x", tickets=tickets[:2])
    calls = []

    def failing_reply(*, actor, ticket, body, files=()):
        calls.append(ticket.pk)
        if len(calls) == 2:
            raise Conflict("boom")
        return ticket_services.record_event(
            ticket=ticket, kind=EventKind.REPLY, public=True, body=body, author=actor
        )

    monkeypatch.setattr(ticket_services, "reply", failing_reply)
    with pytest.raises(Conflict):
        svc.resolve_problem(actor=cast.manager, problem=problem, public_reply="已修复")
    assert Problem.objects.get(pk=problem.pk).status == ProblemStatus.OPEN
    assert not TicketEvent.objects.filter(kind=EventKind.REPLY).exists()
