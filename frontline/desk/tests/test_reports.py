"""The daily issue report: numbers on a constructed day, fixed queries, access, page, API, Excel."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from frontline.core.errors import NotFound, PermissionDenied
from frontline.desk import problems as problem_services
from frontline.desk.models import FireCall, Ticket
from frontline.desk.reports import build_daily_report
from frontline.desk.states import Severity, TicketStatus
from frontline.desk.tests.factories import ticket_for

pytestmark = pytest.mark.django_db

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 10)
API = "/api/v1/reports/daily-issues/"


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=SH)


def make(cast, created, severity, status=TicketStatus.NEW, customer=None, **stamps) -> Ticket:
    ticket = ticket_for(cast, customer=customer, severity=severity, status=status)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created, **stamps)
    ticket.refresh_from_db()
    return ticket


def fire(cast, ticket, when, closed=None) -> FireCall:
    call = FireCall.objects.create(
        ticket=ticket, level=ticket.severity, message="全员支援", called_by=cast.agent,
        closed_at=closed,
    )  # fmt: skip
    FireCall.objects.filter(pk=call.pk).update(created_at=when)
    return call


@pytest.fixture
def day(cast):
    """Tickets around 2026-03-10 (Asia/Shanghai), named by when they were created."""
    t = {
        "before": make(cast, at(9, 23, 59, 59), Severity.S1,
                       sla_warned_at=at(10, 10), sla_breached_at=at(10, 23)),
        "midnight": make(cast, at(10), Severity.S1, customer=cast.customer_b),
        "noon": make(cast, at(10, 12), Severity.S2, status=TicketStatus.RESOLVED,
                     resolved_at=at(10, 18)),
        "late": make(cast, at(10, 23, 59, 59), Severity.S3, sla_breached_at=at(11, 0, 30)),
        "after": make(cast, at(11), Severity.S3, sla_warned_at=at(11, 1)),
        "old_resolved": make(cast, at(1), Severity.S2, status=TicketStatus.RESOLVED,
                             resolved_at=at(10, 8)),
        "resolved_tomorrow": make(cast, at(5), Severity.S4, status=TicketStatus.RESOLVED,
                                  resolved_at=at(11, 9)),
        "closed_earlier": make(cast, at(2), Severity.S1, status=TicketStatus.CLOSED,
                               resolved_at=at(3), closed_at=at(4)),
    }  # fmt: skip
    fire(cast, t["midnight"], at(10, 9))
    fire(cast, t["before"], at(9, 23), closed=at(9, 23, 30))
    problem_services.create_problem(
        actor=cast.manager, title="冷机固件", tickets=[t["before"], t["midnight"]]
    )
    problem_services.create_problem(actor=cast.manager, title="已结束的", tickets=[t["noon"]])
    return t


def row(report, severity):
    return next(r for r in report.by_severity if r.severity == severity)


def test_numbers_for_a_constructed_day(cast, day):
    report = build_daily_report(DAY, cast.manager)
    # New: created from 00:00:00 to 23:59:59 Shanghai time, not a second before or after
    assert [row(report, s).new for s in Severity.values] == [1, 1, 1, 0]
    # Resolved that day, whenever created
    assert [row(report, s).resolved for s in Severity.values] == [0, 2, 0, 0]
    # Open at the end of the day: created before midnight, not resolved or closed before it
    assert [row(report, s).open for s in Severity.values] == [2, 0, 1, 1]
    assert (report.totals.new, report.totals.resolved, report.totals.open) == (3, 2, 4)
    # SLA stamps that day only
    assert (row(report, "S1").sla_warnings, row(report, "S1").sla_breaches) == (1, 1)
    assert (report.totals.sla_warnings, report.totals.sla_breaches) == (1, 1)
    # Fire calls called that day
    assert report.fire_call_count == 1
    assert report.fire_calls[0].ticket_number == day["midnight"].number
    # Oldest open first
    assert [t.number for t in report.oldest_open] == [
        day[k].number for k in ("resolved_tomorrow", "before", "midnight", "late")
    ]
    # Top problems: only those with open tickets, most first
    assert [(p.title, p.open_tickets) for p in report.top_problems] == [("冷机固件", 2)]
    assert report.starts_at == at(10) and report.ends_at == at(11)


def test_the_next_day_moves_with_midnight(cast, day):
    report = build_daily_report(DAY + dt.timedelta(days=1), cast.manager)
    assert report.totals.new == 1  # "after"
    assert row(report, "S4").resolved == 1
    assert report.totals.sla_warnings == 1 and report.totals.sla_breaches == 1


def test_query_count_is_fixed_however_many_tickets(cast, day):
    with CaptureQueriesContext(connection) as few:
        build_daily_report(DAY, cast.manager)
    for i in range(40):
        t = make(cast, at(10, i % 24), Severity.values[i % 4])
        if i % 5 == 0:
            fire(cast, t, at(10, 12))
    with CaptureQueriesContext(connection) as many:
        report = build_daily_report(DAY, cast.manager)
    assert report.totals.new == 43
    assert len(many) == len(few) <= 5


@pytest.mark.parametrize(
    ("role", "error"),
    [
        ("agent", PermissionDenied),
        ("dispatcher", PermissionDenied),
        ("engineer", PermissionDenied),
        ("customer_a_admin", NotFound),
        ("partner_admin", NotFound),
        ("outsider", NotFound),
    ],
)
def test_who_may_not_build_it(cast, role, error):
    with pytest.raises(error):
        build_daily_report(DAY, cast.by_role(role))


# ---------------------------------------------------------------- access matrix: page and API

MATRIX = [
    ("admin", 200),
    ("manager", 200),
    ("analyst", 200),
    ("agent", 403),
    ("dispatcher", 403),
    ("engineer", 403),
    ("customer_a_admin", 404),
    ("customer_a_user", 404),
    ("customer_b_admin", 404),
    ("partner_engineer", 404),
]


@pytest.mark.parametrize(("role", "status"), MATRIX)
def test_page_access(client, cast, role, status):
    client.force_login(cast.by_role(role))
    assert client.get(reverse("desk:daily-report"), {"date": "2026-03-10"}).status_code == status
    xlsx = client.get(reverse("desk:daily-report-xlsx"), {"date": "2026-03-10"})
    assert xlsx.status_code == status


@pytest.mark.parametrize(("role", "status"), MATRIX)
def test_api_access(api, cast, role, status):
    client = api.as_user(cast.by_role(role))
    assert client.get(API, {"date": "2026-03-10"}).status_code == status
    assert client.get(API, {"date": "2026-03-10", "format": "xlsx"}).status_code == status


def test_anonymous_api_is_refused(api):
    assert api.get(API).status_code in {401, 403}


# ---------------------------------------------------------------- API


def test_api_returns_the_numbers(api, cast, day):
    body = api.as_user(cast.analyst).get(API, {"date": "2026-03-10"}).json()
    assert body["date"] == "2026-03-10"
    assert body["totals"]["new"] == 3 and body["totals"]["open"] == 4
    assert [r["severity"] for r in body["by_severity"]] == ["S1", "S2", "S3", "S4"]
    assert body["fire_call_count"] == 1
    assert body["oldest_open"][0]["number"] == day["resolved_tomorrow"].number
    assert body["top_problems"][0]["open_tickets"] == 2


@pytest.mark.parametrize(
    "date", ["2026-13-01", "2026-02-30", "yesterday", "2026-3-1", "20260310", "9" * 200, " "]
)
def test_api_malformed_date_is_400_json(api, cast, date):
    response = api.as_user(cast.manager).get(API, {"date": date})
    if date.strip() == "":
        assert response.status_code == 200  # empty means today
        return
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "date" in response.json()["fields"]


def test_api_refuses_unknown_parameters_and_formats(api, cast):
    client = api.as_user(cast.manager)
    assert client.get(API, {"day": "2026-03-10"}).status_code == 400
    assert client.get(API, {"format": "csv"}).status_code == 400


def test_api_default_is_today(api, cast):
    body = api.as_user(cast.manager).get(API).json()
    assert body["date"] == dt.datetime.now(SH).date().isoformat()


def test_api_xlsx_download(api, cast, day):
    response = api.as_user(cast.manager).get(API, {"date": "2026-03-10", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="daily-issues-2026-03-10.xlsx"' in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 4


# ---------------------------------------------------------------- page and Excel


def test_page_shows_the_day_with_prev_and_next(client, cast, day):
    client.force_login(cast.manager)
    response = client.get(reverse("desk:daily-report"), {"date": "2026-03-10"})
    html = response.content.decode()
    assert "?date=2026-03-09" in html and "?date=2026-03-11" in html
    assert day["resolved_tomorrow"].number in html and "冷机固件" in html
    assert response.context["report"].totals.new == 3


def test_page_with_a_malformed_date_says_so(client, cast):
    client.force_login(cast.manager)
    response = client.get(reverse("desk:daily-report"), {"date": "2026-99-99"})
    assert response.status_code == 400
    assert b'data-testid="date-error"' in response.content


def test_page_query_count_is_fixed(client, cast, day, django_assert_max_num_queries):
    for i in range(30):
        make(cast, at(10, i % 24), Severity.values[i % 4])
    client.force_login(cast.manager)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("desk:daily-report"), {"date": "2026-03-10"})
    assert response.status_code == 200


def test_excel_export_neutralises_formula_titles(client, cast):
    # Given an open ticket whose title is a spreadsheet formula
    evil = '=HYPERLINK("http://evil.example/x","点我")'
    ticket = make(cast, at(9, 8), Severity.S2)
    Ticket.objects.filter(pk=ticket.pk).update(title=evil)
    problem_services.create_problem(actor=cast.manager, title="@SUM(1+1)", tickets=[ticket])
    # When the manager downloads the day's Excel file
    client.force_login(cast.manager)
    response = client.get(reverse("desk:daily-report-xlsx"), {"date": "2026-03-10"})
    workbook = load_workbook(io.BytesIO(response.content))
    cells = [c for ws in workbook.worksheets for r in ws.iter_rows() for c in r]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    # Then the title comes out as text, never as a formula
    assert "'" + evil in texts and "'@SUM(1+1)" in texts
    assert not [c for c in cells if c.data_type == "f"]
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@"))]
