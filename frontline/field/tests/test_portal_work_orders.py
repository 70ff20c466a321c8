"""The customer portal's service visits: a customer sees its own organisation's work
orders with status, appointment, engineer and ETA, and only the public events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from frontline.field import services
from frontline.field.models import WorkOrder
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_mobile import FAR, job

pytestmark = pytest.mark.django_db

LIST = "/portal/work-orders/"


def detail(wo):
    return reverse("field:portal-work-order-detail", args=[wo.pk])


@pytest.fixture
def visits(cast):
    a = job(cast, step="en_route", title="A 公司冷机检修")
    WorkOrder.objects.filter(pk=a.pk).update(eta=timezone.now() + dt.timedelta(minutes=25))
    b = job(cast, customer=cast.customer_b, title="B 公司机房巡检", eng=engineer())
    return a, b


def test_urls_are_named():
    assert reverse("field:portal-work-order-list") == LIST


@pytest.mark.parametrize("role", ["customer_a_admin", "customer_a_user"])
def test_customer_a_lists_and_opens_only_its_own_visits(client, cast, visits, role):
    a, b = visits
    client.force_login(cast.by_role(role))
    response = client.get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "A 公司冷机检修" in page and "B 公司机房巡检" not in page
    assert client.get(detail(a)).status_code == 200
    assert client.get(detail(b)).status_code == 404
    assert client.get("/portal/work-orders/abc/").status_code == 404


def test_customer_b_never_sees_a(client, cast, visits):
    a, b = visits
    client.force_login(cast.customer_b_admin)
    page = client.get(LIST).content.decode()
    assert "B 公司机房巡检" in page and "A 公司冷机检修" not in page
    assert client.get(detail(a)).status_code == 404
    assert list(client.get(LIST + "?q=A 公司").context["object_list"]) == []


@pytest.mark.parametrize("role", ["dispatcher", "engineer", "agent"])
def test_staff_on_a_portal_address_land_on_a_staff_page(client, cast, visits, role):
    client.force_login(cast.by_role(role))
    response = client.get(detail(visits[0]))
    assert response.status_code == 302 and "/portal/" not in response["Location"]


@pytest.mark.parametrize(
    "role", ["partner_admin", "partner_engineer", "supplier_contact", "outsider"]
)
def test_partners_suppliers_and_outsiders_find_no_portal(client, cast, visits, role):
    client.force_login(cast.by_role(role))
    assert client.get(LIST).status_code == 404
    assert client.get(detail(visits[0])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, visits):
    for target in [LIST, detail(visits[0])]:
        response = client.get(target)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_visit_shows_status_appointment_engineer_and_eta(client, cast, visits):
    a, _ = visits
    a.refresh_from_db()
    client.force_login(cast.customer_a_user)
    page = client.get(detail(a)).content.decode()
    assert cast.engineer.display_name in page
    assert timezone.localtime(a.eta).strftime("%H:%M") in page
    assert timezone.localtime(a.window_start).strftime("%Y-%m-%d %H:%M") in page
    assert 'data-status="en_route"' in page
    # An open visit polls for a fresh ETA with htmx; the poll answers with the partial only
    assert f'hx-get="{detail(a)}"' in page and 'hx-trigger="every 60s"' in page
    partial = client.get(detail(a), headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="visit"') and "<html" not in partial


def test_no_internal_event_reaches_the_customer(client, cast):
    # Given a visit with an internal note, a rejection with its reason, and a far check-in
    first = engineer()
    wo = job(cast, eng=first)
    services.reject(actor=first, work_order=wo, reason="内部原因：工程师不想去")
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=engineer(user=cast.engineer))
    services.add_note(actor=cast.dispatcher, work_order=wo, body="内部备注：客户欠款")
    services.accept(actor=cast.engineer, work_order=wo)
    services.check_in(actor=cast.engineer, work_order=wo, latitude=FAR[0], longitude=FAR[1])
    client.force_login(cast.customer_a_user)
    page = client.get(detail(wo)).content.decode()
    assert "内部备注" not in page and "内部原因" not in page
    assert 'data-event-kind="rejected"' not in page and 'data-event-kind="note"' not in page
    assert "distance" not in page and FAR[0] not in page and "31.2304" not in page
    assert 'data-event-kind="check_in"' in page and 'data-event-kind="dispatched"' in page


def test_a_reassignment_names_the_new_engineer(client, cast):
    first = engineer()
    wo = job(cast, eng=first)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=engineer(user=cast.engineer))
    client.force_login(cast.customer_a_admin)
    page = client.get(detail(wo)).content.decode()
    assert 'data-event-kind="reassigned"' in page and 'data-testid="reassignments"' in page
    assert f"Engineer: {cast.engineer.display_name}" in page


def test_the_list_filters_open_and_done(client, cast):
    job(cast, step="completed", title="已完成的")
    job(cast, title="进行中的")
    client.force_login(cast.customer_a_admin)
    assert [w.title for w in client.get(LIST + "?status=done").context["object_list"]] == [
        "已完成的"
    ]
    assert [w.title for w in client.get(LIST + "?status=open").context["object_list"]] == [
        "进行中的"
    ]
    assert client.get(LIST + "?sort=;drop table").status_code == 200


def test_hostile_titles_are_escaped(client, cast):
    job(cast, title='"><script>alert(1)</script>')
    client.force_login(cast.customer_a_admin)
    assert "<script>alert(1)" not in client.get(LIST).content.decode()


def test_the_list_does_not_grow_with_rows(client, cast, django_assert_max_num_queries):
    for _ in range(8):
        job(cast, eng=engineer())
    client.force_login(cast.customer_a_admin)
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert len(response.context["object_list"]) == 8


def test_the_visit_page_does_not_grow_with_events(client, cast, django_assert_max_num_queries):
    wo = job(cast, step="on_site")
    for n in range(10):
        services.set_appointment(
            actor=cast.dispatcher, work_order=wo, reason=f"改约 {n}",
            window_start=timezone.now() + dt.timedelta(hours=n + 1),
            window_end=timezone.now() + dt.timedelta(hours=n + 2),
        )  # fmt: skip
    client.force_login(cast.customer_a_admin)
    with django_assert_max_num_queries(8):
        response = client.get(detail(wo))
    assert response.content.decode().count('data-event-kind="appointment"') == 10
