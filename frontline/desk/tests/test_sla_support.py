"""Shared helpers of the SLA tests (no tests here): an office calendar, a policy, tickets at a time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from frontline.desk.models import SlaPolicy, Ticket
from frontline.desk.states import Severity
from frontline.desk.tests.factories import BusinessCalendarFactory, SlaPolicyFactory, TicketFactory
from frontline.testing import factories as f

SH = ZoneInfo("Asia/Shanghai")


def sh(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def office_policy(project=None, *, severity=Severity.S2, **kwargs) -> SlaPolicy:
    """Mon–Fri 09:00–18:00 Shanghai; first response 60, resolution 480 minutes, warn at 80 %."""
    calendar = BusinessCalendarFactory(use_china_holidays=False)
    values = {
        "first_response_minutes": 60,
        "resolution_minutes": 480,
        "warning_percent": 80,
    } | kwargs
    return SlaPolicyFactory(
        project=project or f.ProjectFactory(),
        severity=severity,
        calendar=calendar,
        **values,
    )


def ticket_at(policy: SlaPolicy, created_at: dt.datetime, **kwargs) -> Ticket:
    """A ticket of the policy's project and severity, created at ``created_at``."""
    kwargs.setdefault("customer", policy.project.customer)
    kwargs.setdefault("severity", policy.severity)
    ticket = TicketFactory(project=policy.project, **kwargs)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created_at)
    ticket.refresh_from_db()
    return ticket


def set_status(ticket: Ticket, status: str, **fields) -> Ticket:
    """What a ticket service does before calling recompute: save the new status."""
    Ticket.objects.filter(pk=ticket.pk).update(status=status, **fields)
    ticket.status = status
    for name, value in fields.items():
        setattr(ticket, name, value)
    return ticket
