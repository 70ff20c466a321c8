"""/api/v1/sla-policies/ and /api/v1/business-calendars/: who may do what, what is refused."""

from __future__ import annotations

import pytest

from frontline.core.models import AuditEntry
from frontline.desk import sla
from frontline.desk.models import BusinessCalendar, SlaPolicy, WorkingPeriod
from frontline.desk.states import Severity, TicketStatus
from frontline.desk.tests.test_sla_support import office_policy, sh, ticket_at
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

POLICIES = "/api/v1/sla-policies/"
CALENDARS = "/api/v1/business-calendars/"
WEEKDAYS_9_18 = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]


@pytest.fixture
def project(cast):
    return f.ProjectFactory(customer=cast.customer_a)


@pytest.fixture
def calendar(cast, api):
    response = api.as_user(cast.admin).post(
        CALENDARS, {"name": "上海办公时间", "periods": WEEKDAYS_9_18}, format="json"
    )
    assert response.status_code == 201, response.json()
    return BusinessCalendar.objects.get(pk=response.json()["id"])


def policy_payload(project, calendar, overrides=None):
    return {
        "project": project.pk,
        "severity": "S1",
        "calendar": calendar.pk,
        "first_response_minutes": 30,
        "resolution_minutes": 240,
        "warning_percent": 75,
        "raise_tier_on_breach": "l3",
    } | (overrides or {})


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 201),
        ("manager", 403),
        ("dispatcher", 403),
        ("agent", 403),
        ("customer_a_admin", 403),
        ("partner_admin", 403),
        ("outsider", 403),
    ],
)
def test_only_admins_create_policies(api, cast, project, calendar, role, status):
    response = api.as_user(cast.by_role(role)).post(
        POLICIES, policy_payload(project, calendar), format="json"
    )
    assert response.status_code == status
    assert SlaPolicy.objects.count() == (1 if status == 201 else 0)


def test_a_created_policy_reads_back_with_its_calendar_rule_and_is_audited(
    api, cast, project, calendar
):
    body = (
        api.as_user(cast.admin)
        .post(POLICIES, policy_payload(project, calendar), format="json")
        .json()
    )
    assert body["calendar_rule"] == "9×5 Mon–Fri 09:00–18:00, China holidays"
    assert body["project_code"] == project.code and body["raise_tier_on_breach"] == "l3"
    policy = SlaPolicy.objects.get(pk=body["id"])
    assert AuditEntry.objects.filter(object_id=str(policy.pk), action="create").exists()


@pytest.mark.parametrize("role", ["manager", "agent", "customer_a_user"])
def test_non_admins_cannot_change_or_delete_a_policy(api, cast, project, role):
    policy = office_policy(project)
    client = api.as_user(cast.by_role(role))
    patched = client.patch(f"{POLICIES}{policy.pk}/", {"warning_percent": 50}, format="json")
    deleted = client.delete(f"{POLICIES}{policy.pk}/")
    expected = 404 if role.startswith("customer") else 403
    assert (patched.status_code, deleted.status_code) == (expected, expected)
    policy.refresh_from_db()
    assert policy.warning_percent == 80


def test_customers_see_no_policies_or_calendars(api, cast, project):
    policy = office_policy(project)
    client = api.as_user(cast.customer_a_admin)
    assert client.get(POLICIES).json()["count"] == 0
    assert client.get(f"{POLICIES}{policy.pk}/").status_code == 404
    assert client.get(f"{CALENDARS}{policy.calendar_id}/").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"resolution_minutes": 0}, "resolution_minutes"),
        ({"warning_percent": 0}, "warning_percent"),
        ({"warning_percent": 100}, "warning_percent"),
        ({"resolution_minutes": 20}, "resolution_minutes"),  # shorter than the first response
        ({"severity": "S9"}, "severity"),
        ({"raise_tier_on_breach": "l9"}, "raise_tier_on_breach"),
        ({"project": 99999999}, "project"),
        ({"calendar": "abc"}, "calendar"),
        ({"sla_due_at": "2030-01-01T00:00:00Z"}, "sla_due_at"),
    ],
)
def test_invalid_policies_are_400_and_nothing_is_saved(
    api, cast, project, calendar, overrides, field
):
    response = api.as_user(cast.admin).post(
        POLICIES, policy_payload(project, calendar, overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not SlaPolicy.objects.exists()


def test_a_second_policy_for_the_same_project_and_severity_is_400(api, cast, project, calendar):
    client = api.as_user(cast.admin)
    assert (
        client.post(POLICIES, policy_payload(project, calendar), format="json").status_code == 201
    )
    again = client.post(POLICIES, policy_payload(project, calendar), format="json")
    assert again.status_code == 400 and "severity" in again.json()["fields"]
    assert SlaPolicy.objects.count() == 1


def test_changing_a_policy_recomputes_its_open_tickets_after_commit(
    api, cast, project, django_capture_on_commit_callbacks
):
    policy = office_policy(project)
    open_ticket = ticket_at(policy, sh(2026, 3, 16, 9))
    done_ticket = ticket_at(policy, sh(2026, 3, 16, 9), status=TicketStatus.CLOSED)
    sla.recompute(open_ticket, now=sh(2026, 3, 16, 9))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.as_user(cast.admin).patch(
            f"{POLICIES}{policy.pk}/", {"first_response_minutes": 120}, format="json"
        )
    assert response.status_code == 200 and len(callbacks) == 1
    open_ticket.refresh_from_db()
    done_ticket.refresh_from_db()
    assert open_ticket.first_response_due_at == sh(2026, 3, 16, 11)
    assert done_ticket.first_response_due_at is None


def test_deleting_a_policy_leaves_its_tickets_without_sla(
    api, cast, project, django_capture_on_commit_callbacks
):
    policy = office_policy(project)
    ticket = ticket_at(policy, sh(2026, 3, 16, 9))
    sla.recompute(ticket, now=sh(2026, 3, 16, 9))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(cast.admin).delete(f"{POLICIES}{policy.pk}/")
    assert response.status_code == 204
    ticket.refresh_from_db()
    assert ticket.sla_state == "none" and ticket.sla_next_check_at is None


# ---------------------------------------------------------------- calendars


def test_a_calendar_is_created_with_its_periods_and_closed_days_in_one_payload(api, cast):
    payload = {
        "name": "夜班",
        "time_zone": "Asia/Shanghai",
        "use_china_holidays": False,
        "periods": [
            *({"weekday": d, "start": "00:00", "end": "06:00"} for d in range(7)),
            *({"weekday": d, "start": "22:00", "end": "23:59"} for d in range(7)),
        ],
        "closed_days": [{"date": "2026-02-17", "reason": "年度检修"}],
    }
    response = api.as_user(cast.admin).post(CALENDARS, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["periods"]) == 14 and body["closed_days"][0]["reason"] == "年度检修"
    assert body["rule"].startswith("8×7 Mon–Sun 00:00–06:00, 22:00–24:00")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (
            {
                "periods": [
                    {"weekday": 0, "start": "09:00", "end": "12:00"},
                    {"weekday": 0, "start": "11:00", "end": "13:00"},
                ]
            },
            "periods",
        ),
        ({"periods": [{"weekday": 0, "start": "18:00", "end": "09:00"}]}, "periods"),
        ({"periods": [{"weekday": 7, "start": "09:00", "end": "18:00"}]}, "periods"),
        ({"periods": []}, "periods"),
        ({"periods": WEEKDAYS_9_18, "time_zone": "Mars/Olympus"}, "time_zone"),
        (
            {
                "periods": WEEKDAYS_9_18,
                "closed_days": [{"date": "2026-05-01"}, {"date": "2026-05-01"}],
            },
            "closed_days",
        ),
        ({"periods": [{"weekday": 0, "start": "09:00", "end": "18:00", "x": 1}]}, "periods"),
    ],
)
def test_invalid_calendars_are_400(api, cast, payload, field):
    response = api.as_user(cast.admin).post(CALENDARS, {"name": "坏日历"} | payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not BusinessCalendar.objects.exists()


def test_a_24x7_calendar_needs_no_periods(api, cast):
    response = api.as_user(cast.admin).post(
        CALENDARS, {"name": "全天候", "is_24x7": True}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["rule"].startswith("24×7")


def test_patching_periods_replaces_them_and_recomputes_tickets(
    api, cast, project, calendar, django_capture_on_commit_callbacks
):
    policy = office_policy(project)
    policy.calendar = calendar
    policy.save()
    ticket = ticket_at(policy, sh(2026, 3, 16, 9))
    sla.recompute(ticket, now=sh(2026, 3, 16, 9))
    assert ticket.first_response_due_at == sh(2026, 3, 16, 10)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(cast.admin).patch(
            f"{CALENDARS}{calendar.pk}/",
            {"periods": [{"weekday": d, "start": "09:30", "end": "17:30"} for d in range(5)]},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert WorkingPeriod.objects.filter(calendar=calendar).count() == 5
    assert not WorkingPeriod.objects.filter(calendar=calendar, start="09:00").exists()
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == sh(2026, 3, 16, 10, 30)


def test_a_calendar_in_use_cannot_be_deleted(api, cast, project, calendar):
    SlaPolicy.objects.create(
        project=project,
        severity=Severity.S3,
        calendar=calendar,
        first_response_minutes=60,
        resolution_minutes=120,
    )
    response = api.as_user(cast.admin).delete(f"{CALENDARS}{calendar.pk}/")
    assert response.status_code == 409 and response.json()["code"] == "in_use"
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()
    unused = api.as_user(cast.admin).post(
        CALENDARS, {"name": "临时", "is_24x7": True}, format="json"
    )
    assert api.as_user(cast.admin).delete(f"{CALENDARS}{unused.json()['id']}/").status_code == 204


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_staff_read_but_do_not_write_calendars(api, cast, calendar, role):
    client = api.as_user(cast.by_role(role))
    assert client.get(CALENDARS).json()["count"] == 1
    response = client.patch(f"{CALENDARS}{calendar.pk}/", {"name": "改名"}, format="json")
    assert response.status_code == 403
    calendar.refresh_from_db()
    assert calendar.name == "上海办公时间"


def test_unknown_filters_and_orderings_are_400(api, cast):
    client = api.as_user(cast.admin)
    assert client.get(f"{POLICIES}?owner=1").status_code == 400
    assert client.get(f"{POLICIES}?ordering=calendar__periods").status_code == 400
    assert client.get(f"{POLICIES}?project=99999999999999999999999").status_code == 400
    assert client.get(f"{POLICIES}?severity=S1&ordering=-severity").status_code == 200


@pytest.mark.parametrize("url", [POLICIES, CALENDARS])
def test_lists_do_not_grow_queries_with_rows(api, cast, django_assert_max_num_queries, url):
    for _ in range(3):
        project = f.ProjectFactory(customer=cast.customer_a)
        for severity in (Severity.S1, Severity.S2, Severity.S3):
            office_policy(project, severity=severity)
    client = api.as_user(cast.manager)
    # Session + user, count, rows, and the periods and closed days of the calendars.
    with django_assert_max_num_queries(6):
        response = client.get(f"{url}?page_size=200")
    assert response.status_code == 200 and response.json()["count"] == 9
