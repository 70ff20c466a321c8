"""The daily issue report (问题日报): one day of the service desk, in four queries.

A day is midnight to midnight in ``REPORT_TIME_ZONE`` (Asia/Shanghai), however the
reader's own time zone is set, so every manager reads the same numbers. Counts are
taken from the timestamps stored on the ticket (``created_at``, ``resolved_at``,
``closed_at``, ``sla_warned_at``, ``sla_breached_at``): "open at the end of the
day" is a ticket created before midnight and neither resolved nor closed before it.
A ticket counts as warned (breached) on a day when its stamp falls on it or the sweep
wrote an SLA warning (breach) event that day: the next target's warning or breach
replaces the stamps, the events stay.
A ticket resolved and later reopened counts as the tickets service left its stamps.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from frontline.accounts.roles import Cap
from frontline.core.errors import NotFound, PermissionDenied, ValidationFailed
from frontline.desk.access import is_desk_staff
from frontline.desk.exports import Sheet, xlsx_bytes
from frontline.desk.models import FireCall, Problem, Ticket, TicketEvent
from frontline.desk.states import OPEN_STATUSES, EventKind, Severity

REPORT_TIME_ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
OLDEST_LIMIT = 10
TOP_PROBLEMS_LIMIT = 10
FIRE_CALLS_LIMIT = 100
BAD_DATE = _("Give the date as YYYY-MM-DD.")
# Days far enough from both ends of Python's calendar that a day's bounds in any time
# zone (and the database's date arithmetic) stay representable.
FIRST_REPORT_DATE = dt.date(1970, 1, 1)
LAST_REPORT_DATE = dt.date(2999, 12, 31)


@dataclass(frozen=True)
class SeverityRow:
    severity: str
    label: str
    new: int
    resolved: int
    open: int
    sla_warnings: int
    sla_breaches: int


@dataclass(frozen=True)
class TicketLine:
    id: int
    number: str
    title: str
    severity: str
    status: str
    status_label: str
    customer: str
    owner: str
    created_at: dt.datetime
    age_days: int


@dataclass(frozen=True)
class FireCallLine:
    id: int
    ticket_id: int
    ticket_number: str
    ticket_title: str
    level: str
    message: str
    called_by: str
    created_at: dt.datetime
    closed_at: dt.datetime | None


@dataclass(frozen=True)
class ProblemLine:
    id: int
    number: str
    title: str
    status: str
    status_label: str
    open_tickets: int


@dataclass
class DailyReport:
    """Everything the page, the export, the API and the email show for one day."""

    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    by_severity: list[SeverityRow]
    totals: SeverityRow
    fire_calls: list[FireCallLine] = field(default_factory=list)
    fire_call_count: int = 0
    oldest_open: list[TicketLine] = field(default_factory=list)
    top_problems: list[ProblemLine] = field(default_factory=list)

    @property
    def previous_date(self) -> dt.date:
        return self.date - dt.timedelta(days=1)

    @property
    def next_date(self) -> dt.date:
        return self.date + dt.timedelta(days=1)


# ---------------------------------------------------------------- access and dates


def check_access(user) -> None:
    """Customers and partners: 404 (the report does not exist for them); staff without the
    capability: 403."""
    if not is_desk_staff(user):
        raise NotFound()
    if not user.has_capability(Cap.VIEW_DESK_REPORTS):
        raise PermissionDenied()


def parse_report_date(raw: str | None, *, default: dt.date | None = None) -> dt.date:
    """``YYYY-MM-DD`` → date; empty gives ``default`` (today in Asia/Shanghai)."""
    if raw is None or raw.strip() == "":
        return default or today()
    text = raw.strip()
    try:
        if len(text) != 10:
            raise ValueError
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(BAD_DATE, fields={"date": [BAD_DATE]})
    if not FIRST_REPORT_DATE <= date <= LAST_REPORT_DATE:
        message = _("Choose a date from %(first)s to %(last)s.") % {
            "first": FIRST_REPORT_DATE.isoformat(),
            "last": LAST_REPORT_DATE.isoformat(),
        }
        raise ValidationFailed(message, fields={"date": [message]})
    return date


def today() -> dt.date:
    return dt.datetime.now(REPORT_TIME_ZONE).date()


def day_bounds(date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(date, dt.time.min, tzinfo=REPORT_TIME_ZONE)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time.min, tzinfo=REPORT_TIME_ZONE)
    return start, end


# ---------------------------------------------------------------- the report


def _open_at(end: dt.datetime) -> Q:
    return (
        Q(created_at__lt=end)
        & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=end))
        & (Q(closed_at__isnull=True) | Q(closed_at__gte=end))
    )


def _counts(tickets, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    """One query: per severity, new, resolved, open at the end, SLA warnings and breaches."""

    def fired(kind: str):
        # The sweep's events: a later target's warning or breach replaces the stamps.
        events = TicketEvent.objects.filter(kind=kind, created_at__gte=start, created_at__lt=end)
        return Q(pk__in=events.values("ticket_id"))

    measures = {
        "new": Q(created_at__gte=start, created_at__lt=end),
        "resolved": Q(resolved_at__gte=start, resolved_at__lt=end),
        "open": _open_at(end),
        "warned": Q(sla_warned_at__gte=start, sla_warned_at__lt=end) | fired(EventKind.SLA_WARNING),
        "breached": Q(sla_breached_at__gte=start, sla_breached_at__lt=end)
        | fired(EventKind.SLA_BREACH),
    }
    aggregates = {
        f"{name}_{severity}": Count("pk", filter=cond & Q(severity=severity))
        for name, cond in measures.items()
        for severity in Severity.values
    }
    return tickets.aggregate(**aggregates)


def build_daily_report(date: dt.date, user) -> DailyReport:
    """The report for ``date`` over the tickets ``user`` may see; a fixed number of queries."""
    check_access(user)
    start, end = day_bounds(date)
    tickets = Ticket.objects.visible_to(user)

    counts = _counts(tickets, start, end)
    rows = [
        SeverityRow(
            severity=sev,
            label=str(Severity(sev).label),
            new=counts[f"new_{sev}"],
            resolved=counts[f"resolved_{sev}"],
            open=counts[f"open_{sev}"],
            sla_warnings=counts[f"warned_{sev}"],
            sla_breaches=counts[f"breached_{sev}"],
        )
        for sev in Severity.values
    ]
    totals = SeverityRow(
        severity="",
        label=gettext("Total"),
        new=sum(r.new for r in rows),
        resolved=sum(r.resolved for r in rows),
        open=sum(r.open for r in rows),
        sla_warnings=sum(r.sla_warnings for r in rows),
        sla_breaches=sum(r.sla_breaches for r in rows),
    )

    calls = list(
        FireCall.objects.visible_to(user)
        .filter(created_at__gte=start, created_at__lt=end, ticket__in=tickets.values("pk"))
        .select_related("ticket", "called_by")
        .order_by("created_at", "pk")[: FIRE_CALLS_LIMIT + 1]
    )
    call_count = len(calls)
    if call_count > FIRE_CALLS_LIMIT:
        call_count = (
            FireCall.objects.visible_to(user)
            .filter(created_at__gte=start, created_at__lt=end, ticket__in=tickets.values("pk"))
            .count()
        )
    oldest = list(
        tickets.filter(_open_at(end))
        .select_related("customer", "owner")
        .order_by("created_at", "pk")[:OLDEST_LIMIT]
    )
    problems = list(
        Problem.objects.visible_to(user)
        .annotate(
            open_tickets=Count(
                "tickets",
                filter=Q(
                    tickets__status__in=OPEN_STATUSES,
                    tickets__pk__in=tickets.values("pk"),
                ),
            )
        )
        .filter(open_tickets__gt=0)
        .order_by("-open_tickets", "pk")[:TOP_PROBLEMS_LIMIT]
    )
    return DailyReport(
        date=date,
        starts_at=start,
        ends_at=end,
        by_severity=rows,
        totals=totals,
        fire_calls=[_fire_line(c) for c in calls[:FIRE_CALLS_LIMIT]],
        fire_call_count=call_count,
        oldest_open=[_ticket_line(t, end) for t in oldest],
        top_problems=[
            ProblemLine(
                id=p.pk,
                number=p.number,
                title=p.title,
                status=p.status,
                status_label=str(p.get_status_display()),
                open_tickets=p.open_tickets,
            )
            for p in problems
        ],
    )


def _ticket_line(ticket: Ticket, end: dt.datetime) -> TicketLine:
    return TicketLine(
        id=ticket.pk,
        number=ticket.number,
        title=ticket.title,
        severity=ticket.severity,
        status=ticket.status,
        status_label=str(ticket.get_status_display()),
        customer=ticket.customer.name,
        owner=str(ticket.owner),
        created_at=ticket.created_at,
        age_days=max((end - ticket.created_at).days, 0),
    )


def _fire_line(call: FireCall) -> FireCallLine:
    return FireCallLine(
        id=call.pk,
        ticket_id=call.ticket_id,
        ticket_number=call.ticket.number,
        ticket_title=call.ticket.title,
        level=call.level,
        message=call.message,
        called_by=str(call.called_by),
        created_at=call.created_at,
        closed_at=call.closed_at,
    )


# ---------------------------------------------------------------- outputs


def report_xlsx(report: DailyReport) -> bytes:
    """The report as a workbook (in the active language), written through ``desk.exports``."""
    summary = Sheet(gettext("Summary"))
    summary.add_header([gettext("Daily issue report"), report.date])
    summary.blank()
    summary.add_header(
        [
            gettext("Severity"),
            gettext("New"),
            gettext("Resolved"),
            gettext("Open at end of day"),
            gettext("SLA warnings"),
            gettext("SLA breaches"),
        ]
    )
    for row in [*report.by_severity, report.totals]:
        summary.add(
            [row.label, row.new, row.resolved, row.open, row.sla_warnings, row.sla_breaches]
        )
    summary.blank()
    summary.add([gettext("Fire calls"), report.fire_call_count])

    fire = Sheet(
        gettext("Fire calls"),
        [
            gettext("Ticket"),
            gettext("Title"),
            gettext("Level"),
            gettext("Called by"),
            gettext("Called at"),
            gettext("Closed at"),
            gettext("Message"),
        ],
    )
    for call in report.fire_calls:
        fire.add(
            [
                call.ticket_number,
                call.ticket_title,
                call.level,
                call.called_by,
                call.created_at,
                call.closed_at,
                call.message,
            ]
        )

    oldest = Sheet(
        gettext("Oldest open"),
        [
            gettext("Ticket"),
            gettext("Title"),
            gettext("Severity"),
            gettext("Status"),
            gettext("Customer"),
            gettext("Owner"),
            gettext("Created"),
            gettext("Age (days)"),
        ],
    )
    for t in report.oldest_open:
        oldest.add(
            [
                t.number,
                t.title,
                t.severity,
                t.status_label,
                t.customer,
                t.owner,
                t.created_at,
                t.age_days,
            ]
        )

    problems = Sheet(
        gettext("Top problems"),
        [gettext("Problem"), gettext("Title"), gettext("Status"), gettext("Open tickets")],
    )
    for p in report.top_problems:
        problems.add([p.number, p.title, p.status_label, p.open_tickets])
    return xlsx_bytes([summary, fire, oldest, problems])


def report_filename(report: DailyReport) -> str:
    return f"daily-issues-{report.date.isoformat()}.xlsx"


def report_text(report: DailyReport) -> str:
    """A plain-text summary (the email body), in the active language."""
    lines = [gettext("Daily issue report for %(date)s") % {"date": report.date.isoformat()}, ""]
    header = (
        gettext("Severity"),
        gettext("New"),
        gettext("Resolved"),
        gettext("Open"),
        gettext("Warnings"),
        gettext("Breaches"),
    )
    lines.append(" | ".join(header))
    for row in [*report.by_severity, report.totals]:
        label = row.severity or row.label
        values = (row.new, row.resolved, row.open, row.sla_warnings, row.sla_breaches)
        lines.append(" | ".join([label, *(str(v) for v in values)]))
    lines += ["", gettext("Fire calls: %(n)d") % {"n": report.fire_call_count}]
    for call in report.fire_calls[:20]:
        lines.append(f"  {call.level} {call.ticket_number} {call.ticket_title}")
    if report.oldest_open:
        lines += ["", gettext("Oldest open tickets:")]
        for t in report.oldest_open:
            days = gettext("%(n)d days") % {"n": t.age_days}
            lines.append(f"  {t.number} {t.severity} {days} {t.title} ({t.owner})")
    if report.top_problems:
        lines += ["", gettext("Top problems:")]
        for p in report.top_problems:
            count = gettext("%(n)d open tickets") % {"n": p.open_tickets}
            lines.append(f"  {p.number} {p.title} ({count})")
    return "\n".join(lines) + "\n"
