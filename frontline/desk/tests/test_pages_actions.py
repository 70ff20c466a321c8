"""The ticket page's actions: each POST calls one service, changes what it says, and nothing else.

A refused action (illegal status, missing reason, not allowed) shows why and leaves the
ticket as it was; customers find no staff action at all (404); CSRF is enforced.
"""

from __future__ import annotations

import pytest
from django.test import Client

from frontline.desk.models import BugBrief, FireCall, FireSummons, HandOff, Ticket, TicketEvent
from frontline.desk.states import EventKind, HandOffStatus, TicketStatus
from frontline.desk.tests import factories as df
from frontline.desk.tests import test_pages
from frontline.desk.tests.test_pages import NOT_STAFF, text

ACTIONS = [
    "reply",
    "note",
    "transition",
    "take",
    "hand-off",
    "hand-off/accept",
    "hand-off/decline",
    "hand-off/cancel",
    "reassign",
    "watch",
    "call-fire",
    "join",
    "brief",
    "update",
]

# The story's world (customer A's and B's tickets), shared with the page tests.
desk = test_pages.desk


def url(ticket, action: str) -> str:
    return f"/tickets/{ticket.pk}/{action}/"


def events(ticket, kind: str):
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind))


def snapshot(ticket):
    """What a refused action must leave untouched."""
    return (
        Ticket.objects.filter(pk=ticket.pk).values().get(),
        TicketEvent.objects.filter(ticket=ticket).count(),
        HandOff.objects.filter(ticket=ticket).count(),
        FireCall.objects.filter(ticket=ticket).count(),
    )


# ---------------------------------------------------------------- replies and notes


def test_a_reply_becomes_a_public_event_and_the_customer_sees_it(client, cast, desk):
    client.force_login(cast.agent)
    response = client.post(url(desk.ticket_a, "reply"), {"reply-body": "<p>已派工程师</p>"})
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{desk.ticket_a.pk}/"
    reply = events(desk.ticket_a, EventKind.REPLY)[-1]
    assert reply.public is True
    assert reply.body == "<p>已派工程师</p>"
    assert reply.author == cast.agent


def test_a_note_stays_internal(client, cast, desk):
    client.force_login(cast.engineer)
    client.post(url(desk.ticket_a, "note"), {"note-body": "压缩机电流偏高"})
    note = events(desk.ticket_a, EventKind.NOTE)[-1]
    assert note.public is False
    assert "压缩机电流偏高" in note.body


def test_an_empty_reply_is_refused_with_a_form_error(client, cast, desk):
    before = snapshot(desk.ticket_a)
    client.force_login(cast.agent)
    response = client.post(url(desk.ticket_a, "reply"), {"reply-body": ""})
    assert response.status_code == 400
    assert response.context["forms"]["reply"].errors
    assert snapshot(desk.ticket_a) == before


# ---------------------------------------------------------------- status


def test_an_allowed_transition_changes_the_status(client, cast, desk):
    client.force_login(cast.agent)
    client.post(url(desk.ticket_a, "transition"), {"transition-to_status": "in_progress"})
    desk.ticket_a.refresh_from_db()
    assert desk.ticket_a.status == TicketStatus.IN_PROGRESS
    assert events(desk.ticket_a, EventKind.STATUS)


def test_an_illegal_transition_shows_the_error_and_changes_nothing(client, cast, desk):
    # Given a new ticket, which cannot be closed straight away
    before = snapshot(desk.ticket_a)
    client.force_login(cast.agent)
    # When the agent tries anyway
    response = client.post(url(desk.ticket_a, "transition"), {"transition-to_status": "closed"})
    # Then the page says why, with the allowed statuses, and the ticket is as it was
    assert response.status_code == 409
    errors = " ".join(str(e) for e in response.context["forms"]["transition"].non_field_errors())
    assert errors
    assert snapshot(desk.ticket_a) == before


def test_resolving_after_a_fire_call_needs_the_brief(client, cast, desk):
    client.force_login(cast.agent)
    client.post(url(desk.ticket_a, "call-fire"), {"fire-level": "S1", "fire-message": "全厂停冷"})
    client.post(url(desk.ticket_a, "transition"), {"transition-to_status": "in_progress"})
    refused = client.post(url(desk.ticket_a, "transition"), {"transition-to_status": "resolved"})
    assert refused.status_code == 400
    desk.ticket_a.refresh_from_db()
    assert desk.ticket_a.status == TicketStatus.IN_PROGRESS

    brief = {
        f"brief-{k}": v
        for k, v in {
            "symptom": "出水温度 12℃",
            "impact": "GMP 车间停产 2 小时",
            "scope": "一号厂区",
            "workaround": "切换备用机组",
            "root_cause": "冷却塔风机故障",
            "fix": "更换风机电机",
            "prevention": "增加风机振动监测",
        }.items()
    }
    assert client.post(url(desk.ticket_a, "brief"), brief).status_code == 302
    assert BugBrief.objects.filter(ticket=desk.ticket_a).exists()
    client.post(url(desk.ticket_a, "transition"), {"transition-to_status": "resolved"})
    desk.ticket_a.refresh_from_db()
    assert desk.ticket_a.status == TicketStatus.RESOLVED


# ---------------------------------------------------------------- ownership


def test_taking_an_unhandled_ticket_makes_me_its_owner(client, cast, desk):
    client.force_login(cast.engineer)
    client.post(url(desk.ticket_b, "take"))
    desk.ticket_b.refresh_from_db()
    assert desk.ticket_b.owner == cast.engineer
    assert desk.ticket_b.first_handled_at is not None


def test_taking_a_handled_ticket_is_refused(client, cast, desk):
    before = snapshot(desk.ticket_a)
    client.force_login(cast.engineer)
    response = client.post(url(desk.ticket_a, "take"))
    assert response.status_code == 409
    assert "hand-off" in text(response).lower()
    assert snapshot(desk.ticket_a) == before


def test_a_hand_off_keeps_the_old_owner_until_it_is_accepted(client, cast, desk):
    # Given the agent owns the ticket and asks the engineer to take it over
    client.force_login(cast.agent)
    client.post(
        url(desk.ticket_a, "hand-off"),
        {"handoff-to_user": cast.engineer.pk, "handoff-message": "需要现场"},
    )
    desk.ticket_a.refresh_from_db()
    # Then the agent is still the owner, and the engineer's queue shows the request
    assert desk.ticket_a.owner == cast.agent
    hand_off = HandOff.objects.get(ticket=desk.ticket_a)
    assert hand_off.status == HandOffStatus.REQUESTED
    client.force_login(cast.engineer)
    queue = client.get("/tickets/", {"queue": "accept"})
    assert [t.pk for t in queue.context["object_list"]] == [desk.ticket_a.pk]
    # When the engineer accepts, then the engineer owns it
    client.post(url(desk.ticket_a, "hand-off/accept"))
    desk.ticket_a.refresh_from_db()
    assert desk.ticket_a.owner == cast.engineer


def test_declining_needs_a_reason_and_keeps_the_owner(client, cast, desk):
    df.HandOffFactory(ticket=desk.ticket_a, to_user=cast.engineer)
    client.force_login(cast.engineer)
    before = snapshot(desk.ticket_a)
    response = client.post(url(desk.ticket_a, "hand-off/decline"), {"decline-reason": ""})
    assert response.status_code == 400
    assert snapshot(desk.ticket_a) == before

    client.post(url(desk.ticket_a, "hand-off/decline"), {"decline-reason": "不在我的技能范围"})
    hand_off = HandOff.objects.get(ticket=desk.ticket_a)
    assert hand_off.status == HandOffStatus.DECLINED
    assert hand_off.reason == "不在我的技能范围"
    desk.ticket_a.refresh_from_db()
    assert desk.ticket_a.owner == cast.agent


def test_only_the_person_asked_accepts(client, cast, desk):
    df.HandOffFactory(ticket=desk.ticket_a, to_user=cast.engineer)
    before = snapshot(desk.ticket_a)
    client.force_login(cast.dispatcher)
    assert client.post(url(desk.ticket_a, "hand-off/accept")).status_code == 403
    assert snapshot(desk.ticket_a) == before


def test_the_requester_cancels_a_pending_hand_off(client, cast, desk):
    df.HandOffFactory(ticket=desk.ticket_a, to_user=cast.engineer)
    client.force_login(cast.agent)
    client.post(url(desk.ticket_a, "hand-off/cancel"))
    assert HandOff.objects.get(ticket=desk.ticket_a).status == HandOffStatus.CANCELLED


def test_a_dispatcher_reassigns_at_once(client, cast, desk):
    client.force_login(cast.dispatcher)
    client.post(
        url(desk.ticket_a, "reassign"),
        {"reassign-to_user": cast.engineer.pk, "reassign-message": "现场需要"},
    )
    desk.ticket_a.refresh_from_db()
    assert desk.ticket_a.owner == cast.engineer


def test_an_agent_cannot_reassign(client, cast, desk):
    before = snapshot(desk.ticket_a)
    client.force_login(cast.agent)
    response = client.post(url(desk.ticket_a, "reassign"), {"reassign-to_user": cast.engineer.pk})
    assert response.status_code == 403
    assert snapshot(desk.ticket_a) == before


def test_watch_and_unwatch(client, cast, desk):
    client.force_login(cast.manager)
    client.post(url(desk.ticket_a, "watch"), {"watching": "1"})
    assert desk.ticket_a.watchers.filter(pk=cast.manager.pk).exists()
    client.post(url(desk.ticket_a, "watch"), {"watching": "0"})
    assert not desk.ticket_a.watchers.filter(pk=cast.manager.pk).exists()


def test_update_details_records_only_real_changes(client, cast, desk):
    team = df.f.TeamFactory(name="暖通二组")
    client.force_login(cast.agent)
    client.post(
        url(desk.ticket_a, "update"),
        {
            "fields-severity": "S2",
            "fields-tier": "l2",
            "fields-team": team.pk,
            "fields-tags": "冷机, 夏季高峰",
        },
    )
    desk.ticket_a.refresh_from_db()
    assert (desk.ticket_a.severity, desk.ticket_a.tier, desk.ticket_a.team) == ("S2", "l2", team)
    assert sorted(t.name for t in desk.ticket_a.tags.all()) == sorted(["冷机", "夏季高峰"])
    fields_events = events(desk.ticket_a, EventKind.FIELDS)
    assert len(fields_events) == 1
    # the same values again change nothing
    client.post(
        url(desk.ticket_a, "update"),
        {
            "fields-severity": "S2",
            "fields-tier": "l2",
            "fields-team": team.pk,
            "fields-tags": "夏季高峰, 冷机",
        },
    )
    assert len(events(desk.ticket_a, EventKind.FIELDS)) == 1


# ---------------------------------------------------------------- fire and the room


def test_calling_fire_and_joining_the_room(client, cast, desk):
    # Given the agent calls fire at S1
    client.force_login(cast.agent)
    client.post(url(desk.ticket_a, "call-fire"), {"fire-level": "S1", "fire-message": "全厂停冷"})
    call = FireCall.objects.get(ticket=desk.ticket_a)
    assert call.level == "S1" and call.closed_at is None
    # When the engineer opens the ticket, the room offers to join; then they join
    client.force_login(cast.engineer)
    assert 'data-testid="join-form"' in text(client.get(f"/tickets/{desk.ticket_a.pk}/"))
    client.post(url(desk.ticket_a, "join"))
    assert FireSummons.objects.get(fire_call=call, user=cast.engineer).joined_at is not None
    # Then the room lists them among who joined, and the join button is gone
    body = text(client.get(f"/tickets/{desk.ticket_a.pk}/"))
    joined = body.split('data-testid="joined"')[1].split("</div>")[0]
    assert cast.engineer.display_name in joined and cast.agent.display_name in joined
    assert 'data-testid="join-form"' not in body
    assert "全厂停冷" in body.split('data-testid="room"')[1]


def test_joining_without_an_open_call_is_refused(client, cast, desk):
    before = snapshot(desk.ticket_a)
    client.force_login(cast.engineer)
    assert client.post(url(desk.ticket_a, "join")).status_code == 409
    assert snapshot(desk.ticket_a) == before


def test_a_fire_call_without_a_message_is_a_form_error(client, cast, desk):
    before = snapshot(desk.ticket_a)
    client.force_login(cast.agent)
    response = client.post(url(desk.ticket_a, "call-fire"), {"fire-level": "S1"})
    assert response.status_code == 400
    assert response.context["forms"]["fire"].errors["message"]
    assert snapshot(desk.ticket_a) == before


# ---------------------------------------------------------------- htmx, CSRF, access


def test_an_htmx_action_answers_with_the_refreshed_partial(client, cast, desk):
    client.force_login(cast.agent)
    response = client.post(
        url(desk.ticket_a, "note"), {"note-body": "htmx 备注"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    assert "htmx 备注" in body
    assert "Internal note added." in body  # the message travels with the partial


def test_an_htmx_action_that_fails_shows_its_error_in_the_partial(client, cast, desk):
    client.force_login(cast.agent)
    response = client.post(
        url(desk.ticket_a, "transition"),
        {"transition-to_status": "closed"},
        headers={"HX-Request": "true"},
    )
    # htmx swaps only 2xx answers, so the error comes back as a 200 partial
    assert response.status_code == 200
    assert response.context["forms"]["transition"].non_field_errors()
    desk.ticket_a.refresh_from_db()
    assert desk.ticket_a.status == TicketStatus.NEW


@pytest.mark.parametrize("action", ["reply", "note", "take", "transition", "call-fire"])
def test_actions_need_the_csrf_token(cast, desk, action):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.agent)
    before = snapshot(desk.ticket_b)
    data = {"reply-body": "x", "note-body": "x", "transition-to_status": "triaged"}
    data |= {"fire-level": "S1", "fire-message": "x"}
    response = client.post(url(desk.ticket_b, action), data)
    assert response.status_code == 403
    assert snapshot(desk.ticket_b) == before


def test_a_csrf_token_from_the_page_is_accepted(cast, desk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.agent)
    page = client.get(f"/tickets/{desk.ticket_a.pk}/")
    token = page.context["csrf_token"]
    response = client.post(
        url(desk.ticket_a, "note"), {"note-body": "带令牌", "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("role", NOT_STAFF)
@pytest.mark.parametrize("action", ACTIONS)
def test_nobody_but_staff_reaches_an_action(client, cast, desk, role, action):
    # Given a customer of A (or B, a partner, an outsider) and a pending hand-off and fire call
    df.HandOffFactory(ticket=desk.ticket_a, to_user=cast.engineer)
    before = snapshot(desk.ticket_a)
    client.force_login(cast.by_role(role))
    # When they post any staff action on A's ticket, then it does not exist for them
    data = {"reply-body": "x", "note-body": "x", "transition-to_status": "closed"}
    response = client.post(url(desk.ticket_a, action), data)
    assert response.status_code == 404
    assert snapshot(desk.ticket_a) == before


def test_an_analyst_sees_but_cannot_act(client, cast, desk):
    before = snapshot(desk.ticket_a)
    client.force_login(cast.analyst)
    response = client.post(url(desk.ticket_a, "reply"), {"reply-body": "x"})
    assert response.status_code == 403
    assert snapshot(desk.ticket_a) == before


def test_actions_answer_post_only(client, cast, desk):
    client.force_login(cast.agent)
    assert client.get(url(desk.ticket_a, "take")).status_code == 405
