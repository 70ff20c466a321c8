"""Handling a ticket: first handler, replies and notes, the transition table, details, rating."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.desk import tickets
from frontline.desk.models import BugBrief, Retrospective, Ticket, TicketEvent
from frontline.desk.states import TRANSITIONS, EventKind, Severity, TicketStatus, Tier
from frontline.desk.tests import factories as df
from frontline.notifications.models import Notification
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
S = TicketStatus


def unhandled(cast, **kwargs) -> Ticket:
    return df.ticket_for(cast, first_handled_at=None, **kwargs)


def handled(cast, **kwargs) -> Ticket:
    return df.ticket_for(cast, first_handled_at=timezone.now(), **kwargs)


# ---------------------------------------------------------------- first handler


def test_whoever_first_takes_an_unhandled_ticket_owns_it(cast):
    ticket = unhandled(cast)
    tickets.take_ticket(actor=cast.engineer, ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.owner == cast.engineer and ticket.first_handled_at is not None
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ASSIGNED).exists()


def test_a_handled_ticket_cannot_be_taken_only_handed_off(cast):
    ticket = handled(cast)
    with pytest.raises(Conflict) as exc:
        tickets.take_ticket(actor=cast.engineer, ticket=ticket)
    assert exc.value.code == "already_handled"
    assert cast.agent.display_name in str(exc.value.message)
    ticket.refresh_from_db()
    assert ticket.owner == cast.agent


def test_the_intake_owner_taking_their_own_ticket_just_marks_it_handled(cast):
    ticket = unhandled(cast)
    tickets.take_ticket(actor=cast.agent, ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.owner == cast.agent and ticket.first_handled_at is not None


@pytest.mark.parametrize("who", ["customer_a_user", "analyst", "partner_engineer"])
def test_only_people_who_work_tickets_take_them(cast, who):
    ticket = unhandled(cast)
    with pytest.raises(PermissionDenied):
        tickets.take_ticket(actor=cast.by_role(who), ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.owner == cast.agent and ticket.first_handled_at is None


@pytest.mark.parametrize("verb", ["reply", "note"])
def test_a_staff_reply_or_note_on_an_unhandled_ticket_makes_the_writer_owner(cast, verb):
    ticket = unhandled(cast)
    do = tickets.reply if verb == "reply" else tickets.add_note
    do(actor=cast.engineer, ticket=ticket, body="我来看看")
    ticket.refresh_from_db()
    assert ticket.owner == cast.engineer and ticket.first_handled_at is not None


def test_a_staff_reply_on_a_handled_ticket_does_not_move_ownership(cast):
    ticket = handled(cast)
    tickets.reply(actor=cast.engineer, ticket=ticket, body="补充")
    ticket.refresh_from_db()
    assert ticket.owner == cast.agent


# ---------------------------------------------------------------- replies and notes


def test_the_first_staff_reply_is_the_first_response(cast):
    ticket = handled(cast)
    tickets.reply(actor=cast.customer_a_user, ticket=ticket, body="还在吗")
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None

    event = tickets.reply(actor=cast.agent, ticket=ticket, body="<b>在</b><script>x</script>")
    ticket.refresh_from_db()
    first = ticket.first_responded_at
    assert first is not None
    assert event.public and event.kind == EventKind.REPLY and "script" not in event.body

    tickets.reply(actor=cast.agent, ticket=ticket, body="再次")
    ticket.refresh_from_db()
    assert ticket.first_responded_at == first


def test_a_customer_reply_while_waiting_for_them_resumes_the_work(cast):
    ticket = handled(cast, status=S.WAITING_CUSTOMER)
    tickets.reply(actor=cast.customer_a_user, ticket=ticket, body="日志已上传")
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS
    status = TicketEvent.objects.get(ticket=ticket, kind=EventKind.STATUS)
    assert status.public and status.data == {"from": S.WAITING_CUSTOMER, "to": S.IN_PROGRESS,
                                              "via": "reply"}  # fmt: skip


def test_a_customer_reply_notifies_the_owner_and_a_staff_reply_the_contact(cast):
    ticket = handled(cast)
    ticket.watchers.add(cast.engineer)
    event = tickets.reply(actor=cast.customer_a_user, ticket=ticket, body="请尽快")
    assert set(
        Notification.objects.filter(dedupe_key__contains=str(event.pk)).values_list(
            "recipient", flat=True
        )
    ) == {cast.agent.pk, cast.engineer.pk}

    event = tickets.reply(actor=cast.agent, ticket=ticket, body="已安排")
    recipients = set(
        Notification.objects.filter(dedupe_key=f"desk:ticket_reply:{event.pk}").values_list(
            "recipient", flat=True
        )
    )
    assert recipients == {cast.customer_a_user.pk, cast.engineer.pk}


@pytest.mark.parametrize("who", ["customer_b_admin", "partner_engineer", "analyst", "outsider"])
def test_strangers_cannot_reply(cast, who):
    ticket = handled(cast)
    with pytest.raises(PermissionDenied):
        tickets.reply(actor=cast.by_role(who), ticket=ticket, body="hi")
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_customers_cannot_write_internal_notes(cast):
    ticket = handled(cast)
    with pytest.raises(PermissionDenied):
        tickets.add_note(actor=cast.customer_a_user, ticket=ticket, body="偷偷")
    note = tickets.add_note(actor=cast.engineer, ticket=ticket, body="内部")
    assert not note.public and note.kind == EventKind.NOTE


def test_an_empty_message_is_a_field_error(cast):
    ticket = handled(cast)
    with pytest.raises(ValidationFailed) as exc:
        tickets.reply(actor=cast.agent, ticket=ticket, body="<script>only</script>  ")
    assert "body" in exc.value.fields


def test_a_customer_cannot_reply_on_a_closed_ticket(cast):
    ticket = handled(cast, status=S.CLOSED)
    with pytest.raises(Conflict) as exc:
        tickets.reply(actor=cast.customer_a_user, ticket=ticket, body="又坏了")
    assert exc.value.code == "ticket_closed"


# ---------------------------------------------------------------- transition table

ALLOWED = [(old, new) for old, targets in TRANSITIONS.items() for new in sorted(targets)]
ILLEGAL = [
    (S.NEW, S.CLOSED),
    (S.NEW, S.NEW),
    (S.NEW, S.REOPENED),
    (S.IN_PROGRESS, S.NEW),
    (S.IN_PROGRESS, S.CLOSED),
    (S.WAITING_CUSTOMER, S.CLOSED),
    (S.RESOLVED, S.IN_PROGRESS),
    (S.CLOSED, S.RESOLVED),
    (S.CLOSED, S.IN_PROGRESS),
    (S.REOPENED, S.CLOSED),
]


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_every_allowed_transition_works(cast, old, new):
    ticket = handled(cast, status=old, severity=Severity.S3)
    tickets.transition(actor=cast.agent, ticket=ticket, to_status=new)
    ticket.refresh_from_db()
    assert ticket.status == new
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.STATUS)
    assert event.public and event.body == "" and event.data == {"from": old, "to": new}
    if new == S.RESOLVED:
        assert ticket.resolved_at is not None
    if new == S.CLOSED:
        assert ticket.closed_at is not None
    if new == S.REOPENED:
        assert ticket.resolved_at is None and ticket.closed_at is None


@pytest.mark.parametrize(("old", "new"), ILLEGAL)
def test_an_illegal_transition_is_a_conflict_listing_the_allowed_ones(cast, old, new):
    ticket = handled(cast, status=old)
    with pytest.raises(Conflict) as exc:
        tickets.transition(actor=cast.agent, ticket=ticket, to_status=new)
    assert exc.value.code == "illegal_transition"
    assert exc.value.fields == {"to_status": sorted(TRANSITIONS[old])}
    ticket.refresh_from_db()
    assert ticket.status == old
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_an_unknown_status_is_a_field_error(cast):
    with pytest.raises(ValidationFailed) as exc:
        tickets.transition(actor=cast.agent, ticket=handled(cast), to_status="done")
    assert "to_status" in exc.value.fields


@pytest.mark.parametrize("who", ["customer_a_user", "customer_a_admin", "analyst"])
def test_customers_and_onlookers_cannot_transition(cast, who):
    ticket = handled(cast, status=S.IN_PROGRESS)
    with pytest.raises(PermissionDenied):
        tickets.transition(actor=cast.by_role(who), ticket=ticket, to_status=S.RESOLVED)
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS


def test_a_transition_comment_is_an_internal_note_beside_a_neutral_status_event(cast):
    ticket = handled(cast, status=S.IN_PROGRESS)
    tickets.transition(actor=cast.agent, ticket=ticket, to_status=S.WAITING_THIRD_PARTY,
                       comment="等厂家备件")  # fmt: skip
    note = TicketEvent.objects.get(ticket=ticket, kind=EventKind.NOTE)
    assert not note.public and "厂家" in note.body
    status = TicketEvent.objects.get(ticket=ticket, kind=EventKind.STATUS)
    assert "厂家" not in status.body


def test_resolving_after_a_fire_call_needs_a_bug_brief(cast, monkeypatch):
    closed = []
    monkeypatch.setattr(
        "frontline.desk.fire.close_fire_calls",
        lambda *, actor, ticket: closed.append(ticket.pk),
    )
    ticket = handled(cast, status=S.IN_PROGRESS, had_fire_call=True)
    with pytest.raises(ValidationFailed) as exc:
        tickets.transition(actor=cast.agent, ticket=ticket, to_status=S.RESOLVED)
    assert exc.value.code == "brief_required"
    assert closed == []

    BugBrief.objects.create(ticket=ticket, symptom="s", impact="i", scope="sc", root_cause="r",
                            fix="f", prevention="p", author=cast.agent)  # fmt: skip
    tickets.transition(actor=cast.agent, ticket=ticket, to_status=S.RESOLVED)
    ticket.refresh_from_db()
    assert ticket.status == S.RESOLVED and closed == [ticket.pk]


@pytest.mark.parametrize("severity", [Severity.S1, Severity.S2])
def test_closing_a_severe_ticket_needs_a_retrospective(cast, severity):
    ticket = handled(cast, status=S.RESOLVED, severity=severity, resolved_at=timezone.now())
    with pytest.raises(ValidationFailed) as exc:
        tickets.transition(actor=cast.agent, ticket=ticket, to_status=S.CLOSED)
    assert exc.value.code == "retrospective_required"

    Retrospective.objects.create(ticket=ticket, summary="回溯", attribution="implementation",
                                 author=cast.agent)  # fmt: skip
    tickets.transition(actor=cast.agent, ticket=ticket, to_status=S.CLOSED)
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED


def test_a_stale_copy_cannot_overwrite_a_newer_status(cast):
    # Given someone else moved the ticket on after we loaded it
    ticket = handled(cast, status=S.NEW)
    Ticket.objects.filter(pk=ticket.pk).update(status=S.CLOSED)
    # When we apply a move that was legal from what we saw
    with pytest.raises(Conflict):
        tickets.transition(actor=cast.agent, ticket=ticket, to_status=S.TRIAGED)
    # Then the newer status stands
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED


# ---------------------------------------------------------------- details


def test_staff_change_details_with_one_event_listing_old_and_new(cast, monkeypatch):
    recomputed = []
    monkeypatch.setattr("frontline.desk.sla.recompute", lambda t, now=None: recomputed.append(1))
    places = df.Places(cast)
    team = f.TeamFactory()
    ticket = handled(cast, severity=Severity.S3)

    tickets.update_ticket(actor=cast.agent, ticket=ticket, title="新标题", severity=Severity.S2,
                          tier=Tier.L2, team=team, tags=["冷站"], site=places.site_a,
                          project=places.project_a)  # fmt: skip

    ticket.refresh_from_db()
    assert (ticket.title, ticket.severity, ticket.tier, ticket.team) == (
        "新标题", Severity.S2, Tier.L2, team,
    )  # fmt: skip
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.FIELDS)
    changes = event.data["changes"]
    assert changes["severity"] == ["S3", "S2"] and changes["tags"] == [[], ["冷站"]]
    assert not event.public
    assert recomputed == [1]


def test_no_change_writes_no_event(cast):
    ticket = handled(cast, title="同一个")
    tickets.update_ticket(actor=cast.agent, ticket=ticket, title="同一个")
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_details_are_validated_against_the_ticket_customer(cast):
    places = df.Places(cast)
    ticket = handled(cast)
    with pytest.raises(ValidationFailed) as exc:
        tickets.update_ticket(actor=cast.agent, ticket=ticket, site=places.site_b,
                              contact=cast.customer_b_admin, severity="S9", tier="l9")  # fmt: skip
    assert set(exc.value.fields) == {"site", "contact", "severity", "tier"}
    with pytest.raises(ValidationFailed) as exc:
        tickets.update_ticket(actor=cast.agent, ticket=ticket, status=S.CLOSED, owner=cast.admin)
    assert set(exc.value.fields) == {"status", "owner"}


def test_customers_cannot_change_details(cast):
    ticket = handled(cast)
    with pytest.raises(PermissionDenied):
        tickets.update_ticket(actor=cast.customer_a_user, ticket=ticket, title="改")


# ---------------------------------------------------------------- watchers


def test_watching_is_idempotent_and_recorded_once(cast):
    ticket = handled(cast)
    tickets.watch(actor=cast.engineer, ticket=ticket)
    tickets.watch(actor=cast.engineer, ticket=ticket)
    assert list(ticket.watchers.all()) == [cast.engineer]
    assert TicketEvent.objects.filter(kind=EventKind.WATCHER).count() == 1
    tickets.watch(actor=cast.engineer, ticket=ticket, watching=False)
    assert not ticket.watchers.exists()
    with pytest.raises(PermissionDenied):
        tickets.watch(actor=cast.customer_b_admin, ticket=ticket)


# ---------------------------------------------------------------- the customer's verbs


def test_the_customer_confirms_a_resolution(cast):
    ticket = handled(cast, status=S.RESOLVED, resolved_at=timezone.now())
    tickets.confirm_resolution(actor=cast.customer_a_user, ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED and ticket.closed_at is not None


def test_only_the_ticket_customer_confirms_and_only_a_resolved_ticket(cast):
    ticket = handled(cast, status=S.RESOLVED, resolved_at=timezone.now())
    for who in ("customer_b_admin", "agent"):
        with pytest.raises(PermissionDenied):
            tickets.confirm_resolution(actor=cast.by_role(who), ticket=ticket)
    open_ticket = handled(cast, status=S.IN_PROGRESS)
    with pytest.raises(Conflict):
        tickets.confirm_resolution(actor=cast.customer_a_user, ticket=open_ticket)


def test_the_customer_reopens_within_the_period_with_a_public_reason(cast, settings):
    settings.DESK_REOPEN_DAYS = 3
    ticket = handled(cast, status=S.RESOLVED, resolved_at=timezone.now() - dt.timedelta(days=2))
    tickets.reopen(actor=cast.customer_a_user, ticket=ticket, reason="又报警了")
    ticket.refresh_from_db()
    assert ticket.status == S.REOPENED and ticket.resolved_at is None
    said = TicketEvent.objects.get(ticket=ticket, kind=EventKind.REPLY)
    assert said.public and "又报警了" in said.body
    assert Notification.objects.filter(recipient=cast.agent, kind="ticket_reopened").exists()


def test_after_the_period_only_staff_reopen(cast, settings):
    settings.DESK_REOPEN_DAYS = 3
    old = timezone.now() - dt.timedelta(days=4)
    ticket = handled(cast, status=S.CLOSED, resolved_at=old, closed_at=old)
    with pytest.raises(Conflict) as exc:
        tickets.reopen(actor=cast.customer_a_user, ticket=ticket, reason="again")
    assert exc.value.code == "reopen_expired"
    tickets.reopen(actor=cast.agent, ticket=ticket, reason="客户来电")
    ticket.refresh_from_db()
    assert ticket.status == S.REOPENED
    assert not TicketEvent.objects.get(ticket=ticket, kind=EventKind.NOTE).public


def test_an_open_ticket_cannot_be_reopened(cast):
    with pytest.raises(Conflict) as exc:
        tickets.reopen(actor=cast.agent, ticket=handled(cast, status=S.NEW), reason="x")
    assert exc.value.code == "illegal_transition"


def test_the_customer_rates_once_after_resolution(cast):
    ticket = handled(cast, status=S.IN_PROGRESS)
    with pytest.raises(Conflict):
        tickets.rate(actor=cast.customer_a_user, ticket=ticket, rating=5)

    ticket = handled(cast, status=S.CLOSED, resolved_at=timezone.now())
    for bad in (0, 6, True, "5", 4.5):
        with pytest.raises(ValidationFailed):
            tickets.rate(actor=cast.customer_a_user, ticket=ticket, rating=bad)
    with pytest.raises(PermissionDenied):
        tickets.rate(actor=cast.agent, ticket=ticket, rating=5)

    tickets.rate(actor=cast.customer_a_user, ticket=ticket, rating=4, comment="很快")
    with pytest.raises(Conflict) as exc:
        tickets.rate(actor=cast.customer_a_admin, ticket=ticket, rating=1)
    assert exc.value.code == "already_rated"
    ticket.refresh_from_db()
    assert (ticket.rating, ticket.rating_comment) == (4, "很快")
