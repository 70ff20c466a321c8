"""Service desk models, split by topic; import them from here."""

from frontline.desk.models.config import (
    BusinessCalendar,
    Category,
    ClosedDay,
    SeverityLevel,
    SlaPolicy,
    Tag,
    WorkingPeriod,
)
from frontline.desk.models.fire import (
    BugBrief,
    FireCall,
    FireSummons,
    Retrospective,
    RetrospectiveAction,
)
from frontline.desk.models.problems import Problem
from frontline.desk.models.sla_clock import SlaClock, SlaNoticeBatch
from frontline.desk.models.tickets import Attachment, HandOff, SlaPause, Ticket, TicketEvent

__all__ = [
    "Attachment",
    "BugBrief",
    "BusinessCalendar",
    "Category",
    "ClosedDay",
    "FireCall",
    "FireSummons",
    "HandOff",
    "Problem",
    "Retrospective",
    "RetrospectiveAction",
    "SeverityLevel",
    "SlaClock",
    "SlaNoticeBatch",
    "SlaPause",
    "SlaPolicy",
    "Tag",
    "Ticket",
    "TicketEvent",
    "WorkingPeriod",
]
