"""SLA pages: lists for staff, forms for admins, 404 for everyone else; the timeline partial."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from frontline.desk import sla
from frontline.desk.models import BusinessCalendar, SlaPolicy
from frontline.desk.states import Severity
from frontline.desk.tests.test_sla_support import office_policy, sh, ticket_at
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(cast):
    return office_policy(f.ProjectFactory(customer=cast.customer_a))


@pytest.mark.parametrize("name", ["desk:sla-policy-list", "desk:sla-calendar-list"])
@pytest.mark.parametrize(
    ("role", "status", "can_create"),
    [("admin", 200, True), ("manager", 200, False), ("agent", 200, False)],
)
def test_staff_see_the_lists_and_only_admins_get_the_new_button(
    client, cast, policy, name, role, status, can_create
):
    client.force_login(cast.by_role(role))
    response = client.get(reverse(name))
    assert response.status_code == status
    assert (b'data-testid="new"' in response.content) is can_create
    assert policy.calendar.name.encode() in response.content


@pytest.mark.parametrize("role", ["customer_a_admin", "partner_admin", "outsider"])
@pytest.mark.parametrize(
    "url",
    ["/sla/policies/", "/sla/calendars/", "/sla/policies/new/", "/sla/calendars/new/"],
)
def test_everyone_else_gets_404(client, cast, role, url):
    client.force_login(cast.by_role(role))
    assert client.get(url).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get("/sla/policies/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_staff_without_the_capability_cannot_open_or_post_forms(client, cast, policy, role):
    client.force_login(cast.by_role(role))
    assert client.get(reverse("desk:sla-policy-create")).status_code == 403
    response = client.post(
        reverse("desk:sla-policy-edit", args=[policy.pk]),
        {"warning_percent": 10},
    )
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.warning_percent == 80


def test_an_admin_creates_a_policy_through_the_form(client, cast, policy):
    client.force_login(cast.admin)
    response = client.post(
        reverse("desk:sla-policy-create"),
        {
            "project": policy.project_id,
            "severity": Severity.S1,
            "calendar": policy.calendar_id,
            "first_response_minutes": 15,
            "resolution_minutes": 120,
            "warning_percent": 70,
            "raise_tier_on_breach": "l2",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("desk:sla-policy-list")
    assert SlaPolicy.objects.filter(project=policy.project, severity=Severity.S1).exists()


def test_a_duplicate_policy_shows_the_service_message_in_the_form(client, cast, policy):
    client.force_login(cast.admin)
    response = client.post(
        reverse("desk:sla-policy-create"),
        {
            "project": policy.project_id,
            "severity": policy.severity,
            "calendar": policy.calendar_id,
            "first_response_minutes": 15,
            "resolution_minutes": 120,
            "warning_percent": 70,
        },
    )
    assert response.status_code == 200
    assert "already has a policy" in response.content.decode()
    assert SlaPolicy.objects.count() == 1


def test_an_admin_writes_a_calendar_as_lines_per_weekday(client, cast):
    client.force_login(cast.admin)
    form = {
        "name": "双班",
        "time_zone": "Asia/Shanghai",
        "use_china_holidays": "on",
        "day_0": "09:00–12:00, 13:00-18:00",
        "day_5": "09:00-12:00",
        "closed_days": "2026-05-06 年中盘点\n2026-12-31",
    }
    response = client.post(reverse("desk:sla-calendar-create"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar = BusinessCalendar.objects.get(name="双班")
    assert [(p.weekday, p.start, p.end) for p in calendar.periods.order_by("weekday", "start")] == [
        (0, dt.time(9), dt.time(12)),
        (0, dt.time(13), dt.time(18)),
        (5, dt.time(9), dt.time(12)),
    ]
    assert [c.reason for c in calendar.closed_days.order_by("date")] == ["年中盘点", ""]

    edit = client.get(reverse("desk:sla-calendar-edit", args=[calendar.pk]))
    assert "09:00–12:00, 13:00–18:00" in edit.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [("day_1", "nine to five"), ("day_1", "09:00-25:00"), ("closed_days", "next friday")],
)
def test_bad_calendar_lines_are_form_errors(client, cast, field, value):
    client.force_login(cast.admin)
    form = {"name": "坏", "time_zone": "Asia/Shanghai", "day_0": "09:00-18:00", field: value}
    response = client.post(reverse("desk:sla-calendar-create"), form)
    assert response.status_code == 200
    assert not BusinessCalendar.objects.filter(name="坏").exists()


def test_overlapping_periods_come_back_from_the_service_as_a_form_error(client, cast):
    client.force_login(cast.admin)
    form = {"name": "重叠", "time_zone": "Asia/Shanghai", "day_0": "09:00-12:00, 11:00-13:00"}
    response = client.post(reverse("desk:sla-calendar-create"), form)
    assert response.status_code == 200
    assert "overlap" in response.content.decode()


def test_list_pages_do_not_grow_queries_with_rows(client, cast, django_assert_max_num_queries):
    for severity in (Severity.S1, Severity.S2, Severity.S3, Severity.S4):
        office_policy(f.ProjectFactory(customer=cast.customer_a), severity=severity)
    client.force_login(cast.admin)
    for name in ("desk:sla-policy-list", "desk:sla-calendar-list"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(name)).status_code == 200


def test_the_timeline_partial_explains_a_ticket_to_staff_only(client, cast, policy):
    ticket = ticket_at(policy, sh(2026, 3, 16, 9))
    sla.recompute(ticket, now=sh(2026, 3, 16, 9))
    url = reverse("desk:sla-ticket-timeline", args=[ticket.pk])
    client.force_login(cast.agent)
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="sla-timeline"' in body and "9×5 Mon–Fri 09:00–18:00" in body
    client.force_login(cast.customer_a_admin)
    assert client.get(url).status_code == 404
    client.force_login(cast.agent)
    assert client.get(reverse("desk:sla-ticket-timeline", args=["x1"])).status_code == 404
