"""Retrospectives (回溯报告): timeline pre-filled from events, validation, actions, API and page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from frontline.core.errors import NotFound, PermissionDenied, ValidationFailed
from frontline.desk import retrospectives as svc
from frontline.desk.models import Retrospective, RetrospectiveAction, TicketEvent
from frontline.desk.states import EventKind, Severity
from frontline.desk.tests.factories import TicketEventFactory, ticket_for

pytestmark = pytest.mark.django_db

DUE = dt.date(2026, 8, 1)


@pytest.fixture
def ticket(cast):
    """An S1 ticket with a public reply and an internal note on its timeline."""
    t = ticket_for(cast, severity=Severity.S1, title="生产线停机")
    TicketEventFactory(ticket=t, kind=EventKind.REPLY, public=True, body="<p>已到场</p>",
                       author=cast.agent)  # fmt: skip
    TicketEventFactory(ticket=t, kind=EventKind.NOTE, public=False, body="<p>怀疑变频器</p>")
    return t


def action(cast, **kw):
    return {"description": "升级全部变频器固件", "owner": cast.engineer, "due_on": DUE, **kw}


def write(cast, ticket, **kw):
    values = {"summary": "变频器固件缺陷导致停机", "attribution": "implementation", **kw}
    return svc.write_retrospective(actor=cast.agent, ticket=ticket, **values)


# ---------------------------------------------------------------- services


def test_timeline_is_prefilled_from_every_event_including_internal(cast, ticket):
    retro = write(cast, ticket, actions=[action(cast)])
    texts = [row["text"] for row in retro.timeline]
    assert any("已到场" in t for t in texts)
    assert any("怀疑变频器" in t for t in texts)  # the internal note is in too
    assert [row["kind"] for row in retro.timeline] == ["reply", "note"]
    assert all(row["at"].endswith("+08:00") for row in retro.timeline)
    assert "<p>" not in "".join(texts)


def test_writing_records_an_internal_event(cast, ticket):
    retro = write(cast, ticket)
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.RETROSPECTIVE)
    assert event.public is False and event.data["retrospective"] == retro.pk
    assert svc.has_retrospective(ticket) and svc.requires_retrospective(ticket)


def test_an_edited_timeline_is_kept_sorted(cast, ticket):
    rows = [
        {"at": "2026-03-02T10:00", "kind": "note", "text": "修复"},
        {"at": "2026-03-01T09:00+08:00", "kind": "", "text": "发现"},
    ]
    retro = write(cast, ticket, timeline=rows)
    assert [r["text"] for r in retro.timeline] == ["发现", "修复"]
    assert retro.timeline[0]["at"] == "2026-03-01T09:00+08:00"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"summary": "  "}, "summary"),
        ({"attribution": "bad luck"}, "attribution"),
        ({"timeline": "not a list"}, "timeline"),
        ({"timeline": [{"at": "yesterday", "text": "x"}]}, "timeline"),
        ({"timeline": [{"at": "2026-03-01T09:00", "text": ""}]}, "timeline"),
        ({"timeline": [{"at": "2026-03-01T09:00", "text": "x" * 2001}]}, "timeline"),
        ({"actions": [{"description": "", "owner": None, "due_on": None}]}, "actions"),
        ({"actions": [{"description": "x", "owner": "cust", "due_on": DUE}]}, "actions"),
        ({"actions": [{"description": "x", "owner": "eng", "due_on": "soon"}]}, "actions"),
    ],
)
def test_invalid_input_is_refused_and_nothing_is_written(cast, ticket, values, field):
    for item in values.get("actions", []):
        item["owner"] = {"cust": cast.customer_a_admin, "eng": cast.engineer}.get(
            item["owner"], item["owner"]
        )
    with pytest.raises(ValidationFailed) as exc:
        write(cast, ticket, **values)
    assert field in exc.value.fields
    assert not Retrospective.objects.exists()
    assert not TicketEvent.objects.filter(kind=EventKind.RETROSPECTIVE).exists()


def test_rewriting_keeps_done_actions_and_removes_unlisted_ones(cast, ticket):
    retro = write(cast, ticket, actions=[action(cast), action(cast, description="加监控")])
    first, second = retro.actions.order_by("pk")
    svc.complete_action(actor=cast.engineer, action=first)
    # When the retrospective is rewritten listing only the first action (changed) and a new one
    write(
        cast,
        ticket,
        actions=[
            action(cast, id=first.pk, description="升级固件到 2.1"),
            action(cast, description="复盘培训"),
        ],
    )
    actions = {a.description: a for a in RetrospectiveAction.objects.all()}
    assert set(actions) == {"升级固件到 2.1", "复盘培训"}
    assert actions["升级固件到 2.1"].pk == first.pk and actions["升级固件到 2.1"].done_at
    assert not RetrospectiveAction.objects.filter(pk=second.pk).exists()
    assert Retrospective.objects.count() == 1


def test_complete_action_twice_is_harmless(cast, ticket):
    retro = write(cast, ticket, actions=[action(cast)])
    act = retro.actions.get()
    done = svc.complete_action(actor=cast.agent, action=act)
    again = svc.complete_action(actor=cast.agent, action=act)
    assert done.done_at == again.done_at
    assert TicketEvent.objects.filter(kind=EventKind.RETROSPECTIVE).count() == 2


def test_who_may_write(cast, ticket):
    with pytest.raises(PermissionDenied):
        svc.write_retrospective(
            actor=cast.analyst, ticket=ticket, summary="x", attribution="delivery"
        )
    with pytest.raises(NotFound):
        svc.write_retrospective(
            actor=cast.customer_a_admin, ticket=ticket, summary="x", attribution="delivery"
        )
    assert not Retrospective.objects.exists()


# ---------------------------------------------------------------- API


def test_api_get_gives_a_prefilled_draft_then_put_writes(api, cast, ticket):
    client = api.as_user(cast.agent)
    url = f"/api/v1/tickets/{ticket.pk}/retrospective/"
    draft = client.get(url).json()
    assert draft["id"] is None and draft["required"] is True and len(draft["timeline"]) == 2
    payload = {
        "summary": "固件缺陷",
        "attribution": "implementation",
        "actions": [{"description": "升级", "owner": cast.engineer.pk, "due_on": "2026-08-01"}],
    }
    response = client.put(url, payload, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] and body["timeline"] == draft["timeline"]
    assert body["actions"][0]["owner"] == cast.engineer.pk
    done = client.post(f"/api/v1/retrospective-actions/{body['actions'][0]['id']}/complete/")
    assert done.status_code == 200 and done.json()["done_at"]


def test_api_put_with_bad_owner_is_400(api, cast, ticket):
    payload = {
        "summary": "x",
        "attribution": "delivery",
        "actions": [{"description": "y", "owner": 99999, "due_on": "2026-08-01"}],
    }
    client = api.as_user(cast.agent)
    response = client.put(f"/api/v1/tickets/{ticket.pk}/retrospective/", payload, format="json")
    assert response.status_code == 400
    assert not Retrospective.objects.exists()


@pytest.mark.parametrize("role", ["customer_a_admin", "customer_a_user", "partner_admin"])
def test_api_is_404_for_customers(api, cast, ticket, role):
    client = api.as_user(cast.by_role(role))
    url = f"/api/v1/tickets/{ticket.pk}/retrospective/"
    assert client.get(url).status_code == 404
    payload = {"summary": "x", "attribution": "delivery"}
    assert client.put(url, payload, format="json").status_code == 404
    assert not Retrospective.objects.exists()


def test_api_analyst_reads_but_cannot_write(api, cast, ticket):
    client = api.as_user(cast.analyst)
    url = f"/api/v1/tickets/{ticket.pk}/retrospective/"
    assert client.get(url).status_code == 200
    payload = {"summary": "x", "attribution": "delivery"}
    assert client.put(url, payload, format="json").status_code == 403


# ---------------------------------------------------------------- page


def _post_data(cast, **overrides):
    data = {
        "summary": "变频器固件缺陷",
        "attribution": "implementation",
        "timeline-TOTAL_FORMS": "2",
        "timeline-INITIAL_FORMS": "0",
        "timeline-0-at": "2026-03-01T09:00",
        "timeline-0-kind": "note",
        "timeline-0-text": "发现告警",
        "timeline-1-at": "",
        "timeline-1-text": "",
        "actions-TOTAL_FORMS": "2",
        "actions-INITIAL_FORMS": "0",
        "actions-0-description": "升级固件",
        "actions-0-owner": str(cast.engineer.pk),
        "actions-0-due_on": "2026-08-01",
    }
    data.update(overrides)
    return data


def test_page_shows_the_prefilled_timeline(client, cast, ticket):
    client.force_login(cast.agent)
    response = client.get(reverse("desk:retrospective-edit", args=[ticket.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "已到场" in html and "怀疑变频器" in html
    assert response.context["timeline"].total_form_count() == 4  # two events + two blank rows


def test_page_post_writes_through_the_service(client, cast, ticket):
    client.force_login(cast.agent)
    response = client.post(reverse("desk:retrospective-edit", args=[ticket.pk]), _post_data(cast))
    assert response.status_code == 302
    retro = Retrospective.objects.get(ticket=ticket)
    assert [r["text"] for r in retro.timeline] == ["发现告警"]
    assert retro.actions.get().owner == cast.engineer


def test_page_post_with_an_action_missing_its_owner_shows_the_error(client, cast, ticket):
    client.force_login(cast.agent)
    response = client.post(
        reverse("desk:retrospective-edit", args=[ticket.pk]),
        _post_data(cast, **{"actions-0-owner": ""}),
    )
    assert response.status_code == 200
    assert "owner" in str(response.context["form"].errors)
    assert not Retrospective.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"), [("customer_a_admin", 404), ("partner_admin", 404), ("analyst", 403)]
)
def test_page_access(client, cast, ticket, role, status):
    client.force_login(cast.by_role(role))
    url = reverse("desk:retrospective-edit", args=[ticket.pk])
    assert client.get(url).status_code == status
    assert client.post(url, _post_data(cast)).status_code == status
    assert not Retrospective.objects.exists()


def test_action_done_button(client, cast, ticket):
    retro = write(cast, ticket, actions=[action(cast)])
    act = retro.actions.get()
    client.force_login(cast.engineer)
    response = client.post(reverse("desk:retrospective-action-done", args=[act.pk]))
    assert response.status_code == 302
    act.refresh_from_db()
    assert act.done_at is not None
