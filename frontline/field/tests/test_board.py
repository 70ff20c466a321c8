"""The dispatcher board: queue, timelines, map data, suggestions, dispatch and offer."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from frontline.field import services
from frontline.field.models import GrabOffer, WorkOrder
from frontline.field.states import DispatchVia, Priority, WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_dispatch import queue_order, rule, today_at
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
BOARD = reverse("field:board")
HTMX = {"HTTP_HX_REQUEST": "true"}
EVIL = '"><script>alert(1)</script>'


def _site(cast, **kw):
    return f.SiteFactory(customer=cast.customer_a, **kw)


def test_the_board_shows_queue_timelines_and_map_in_bounded_queries(
    client, cast, django_assert_max_num_queries
):
    crew = [engineer(at=(31.2 + i / 50, 121.5)) for i in range(6)]
    for i in range(12):
        queue_order(site=_site(cast), window=(9, 12), priority=Priority.HIGH if i % 3 else "normal")
    for i, user in enumerate(crew):
        booked = queue_order(site=_site(cast), window=(9, 12))
        services.dispatch(actor=cast.dispatcher, work_order=booked, engineer=user,
                          planned_start=today_at(9 + i % 3))  # fmt: skip
    client.force_login(cast.dispatcher)
    with django_assert_max_num_queries(16):
        response = client.get(BOARD)
    assert response.status_code == 200
    ctx = response.context
    assert len(ctx["queue"]) == 12 and len(ctx["rows"]) == 6
    assert all(len(row["jobs"]) == 1 for row in ctx["rows"])
    body = response.content.decode()
    assert body.count('data-testid="timeline-job"') == 6
    data = json.loads(
        body.split('id="board-map-data" type="application/json">')[1].split("</script>")[0]
    )
    assert len(data["orders"]) == 12 and len(data["engineers"]) == 6


def test_filters_by_priority_team_and_day(client, cast):
    team = f.TeamFactory()
    urgent = queue_order(site=_site(cast), priority=Priority.URGENT, team=team)
    queue_order(site=_site(cast), priority=Priority.LOW)
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    later = queue_order(site=_site(cast), window=(9, 10), day=tomorrow)
    client.force_login(cast.dispatcher)
    queue = client.get(BOARD, {"priority": "urgent"}).context["queue"]
    assert [wo.pk for wo in queue] == [urgent.pk]
    assert [wo.pk for wo in client.get(BOARD, {"team": team.pk}).context["queue"]] == [urgent.pk]
    ids = [wo.pk for wo in client.get(BOARD, {"day": tomorrow.isoformat()}).context["queue"]]
    assert later.pk in ids and urgent.pk in ids  # no window: any day
    assert later.pk not in [wo.pk for wo in client.get(BOARD).context["queue"]]


def test_suggestions_partial_ranks_engineers(client, cast, django_assert_max_num_queries):
    near = engineer(at=(31.2034, 121.587))
    engineer(at=(31.5, 121.2))
    wo = queue_order(site=_site(cast))
    client.force_login(cast.dispatcher)
    url = reverse("field:board-suggestions", args=[wo.pk])
    with django_assert_max_num_queries(16):
        response = client.get(url, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert response.context["suggestions"][0].engineer == near
    assert 'data-testid="dispatch-to"' in body and "km away" in body
    # Without htmx: the board with the order selected
    response = client.get(url)
    assert response.status_code == 302 and f"selected={wo.pk}" in response["Location"]


def test_one_click_dispatch(client, cast):
    eng = engineer(user=cast.engineer)
    wo = queue_order(site=_site(cast), window=(10, 12))
    client.force_login(cast.dispatcher)
    response = client.post(
        reverse("field:board-dispatch", args=[wo.pk]),
        {"engineer": eng.pk, "querystring": "priority=high&evil=1"},
    )
    assert response.status_code == 302 and response["Location"] == f"{BOARD}?priority=high"
    wo.refresh_from_db()
    assert (wo.status, wo.assignee, wo.dispatched_via) == (
        WorkOrderStatus.DISPATCHED, eng, DispatchVia.ASSIGN)  # fmt: skip
    assert wo.planned_start == today_at(10)


def test_dispatch_errors_are_shown_and_change_nothing(client, cast):
    skill = f.SkillFactory()
    unqualified = engineer(user=cast.engineer)
    wo = queue_order(site=_site(cast), skills={skill: 2})
    client.force_login(cast.dispatcher)
    response = client.post(reverse("field:board-dispatch", args=[wo.pk]),
                           {"engineer": unqualified.pk}, follow=True)  # fmt: skip
    assert "lacks a required skill" in response.content.decode()
    assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.NEW


def test_offer_from_the_board(client, cast):
    engineer(user=cast.engineer)
    wo = queue_order(site=_site(cast))
    client.force_login(cast.dispatcher)
    response = client.post(reverse("field:board-offer", args=[wo.pk]), follow=True)
    assert "offered to 1 engineers" in response.content.decode()
    assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.OFFERED


@pytest.mark.parametrize("role", ["engineer", "agent", "analyst"])
def test_field_staff_who_do_not_dispatch_get_403(client, cast, role):
    eng = engineer()
    wo = queue_order(site=_site(cast))
    client.force_login(cast.by_role(role))
    assert client.get(BOARD).status_code == 403
    assert client.get(reverse("field:board-suggestions", args=[wo.pk]), **HTMX).status_code == 403
    response = client.post(reverse("field:board-dispatch", args=[wo.pk]), {"engineer": eng.pk})
    assert response.status_code == 403
    assert client.post(reverse("field:board-offer", args=[wo.pk])).status_code == 403
    assert client.post(reverse("field:board-route", args=[wo.pk])).status_code == 403
    assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.NEW
    assert not GrabOffer.objects.exists()


@pytest.mark.parametrize("role", ["customer_a_admin", "partner_admin", "outsider"])
def test_others_get_404(client, cast, role):
    eng = engineer()
    wo = queue_order(site=_site(cast))
    client.force_login(cast.by_role(role))
    assert client.get(BOARD).status_code == 404
    response = client.post(reverse("field:board-dispatch", args=[wo.pk]), {"engineer": eng.pk})
    assert response.status_code == 404
    assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.NEW


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(BOARD)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_hostile_text_stays_text(client, cast):
    engineer(user=f.member("engineer", display_name=EVIL))
    wo = queue_order(site=_site(cast, name=EVIL), title=EVIL)
    client.force_login(cast.dispatcher)
    body = client.get(BOARD, {"selected": wo.pk}).content.decode()
    assert "<script>alert(1)" not in body
    assert "\\u003Cscript\\u003E" in body  # inside json_script, escaped


def test_a_rule_pool_narrows_the_suggestions_and_the_rule_is_named(client, cast):
    chosen = engineer(at=(31.5, 121.2))
    engineer(at=(31.2034, 121.587))  # nearer, but not in the pool
    wo = queue_order(site=_site(cast))
    rule(name="华东专线", customer=cast.customer_a, mode="grab", engineers=[chosen])
    client.force_login(cast.dispatcher)
    response = client.get(reverse("field:board-suggestions", args=[wo.pk]), **HTMX)
    assert [s.engineer for s in response.context["suggestions"]] == [chosen]
    assert "Rule “华东专线” takes this order among 1 engineers" in response.content.decode()


def test_route_from_the_board_applies_the_rules(client, cast):
    eng = engineer(user=cast.engineer)
    wo = queue_order(site=_site(cast))
    rule(name="抢单", mode="grab", engineers=[eng])
    client.force_login(cast.dispatcher)
    response = client.post(reverse("field:board-route", args=[wo.pk]), follow=True)
    assert "Rule “抢单” takes this order" in response.content.decode()
    assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.OFFERED
    assert list(GrabOffer.objects.get().recipients.all()) == [eng]
