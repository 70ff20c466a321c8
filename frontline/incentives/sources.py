"""Where each rule event is read from: one queryset per event over the source app's
own tables (incentives reads inspections, field and desk; they never call us).

Each returns rows of ``x_source, x_user, x_at, x_team, x_project, x_value`` for events
that happened in ``[since, until)``; ``x_at`` is the event's time (the month it counts in),
``x_value`` what a threshold compares with (quality score, CSAT), or None.
"""

from __future__ import annotations

from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from frontline.desk.models import Ticket
from frontline.desk.states import SlaState, TicketStatus
from frontline.field.models import Survey, WorkOrder
from frontline.field.states import WorkOrderStatus
from frontline.incentives.states import RuleEvent
from frontline.inspections.models import Anomaly, Round
from frontline.inspections.states import AnomalyStatus, RoundStatus

NO_VALUE = Value(None, output_field=DecimalField())
FIELDS = ("x_source", "x_user", "x_at", "x_team", "x_project", "x_value")


def _rows(qs: QuerySet, **columns) -> QuerySet:
    return qs.order_by().annotate(**columns).values(*FIELDS)


def round_completed(since, until) -> QuerySet:
    qs = Round.objects.filter(
        status=RoundStatus.COMPLETED, assignee__isnull=False, finished_at__gte=since,
        finished_at__lt=until,
    )  # fmt: skip
    return _rows(
        qs, x_source=F("pk"), x_user=F("assignee"), x_at=F("finished_at"),
        x_team=F("team"), x_project=F("project"), x_value=NO_VALUE,
    )  # fmt: skip


def round_quality(since, until) -> QuerySet:
    """Completed rounds with a score; an analyst's later adjustment brings an old round
    back into the window (see ``awarding.quality_corrections`` for lowered scores)."""
    when = Q(finished_at__gte=since, finished_at__lt=until) | Q(
        quality_adjusted_at__gte=since, quality_adjusted_at__lt=until
    )
    qs = Round.objects.filter(
        when, status=RoundStatus.COMPLETED, assignee__isnull=False, quality_score__isnull=False
    )
    return _rows(
        qs, x_source=F("pk"), x_user=F("assignee"), x_at=F("finished_at"),
        x_team=F("team"), x_project=F("project"), x_value=F("quality_score"),
    )  # fmt: skip


def round_missed(since, until) -> QuerySet:
    qs = Round.objects.filter(
        status=RoundStatus.MISSED, assignee__isnull=False, window_end__gte=since,
        window_end__lt=until,
    )  # fmt: skip
    return _rows(
        qs, x_source=F("pk"), x_user=F("assignee"), x_at=F("window_end"),
        x_team=F("team"), x_project=F("project"), x_value=NO_VALUE,
    )  # fmt: skip


def anomaly_confirmed(since, until) -> QuerySet:
    """Found by the engineer and confirmed by staff (a handled anomaly counts too, when it
    was confirmed first; a dismissed one never pays)."""
    qs = Anomaly.objects.filter(
        status__in=[AnomalyStatus.CONFIRMED, AnomalyStatus.HANDLED], raised_by__isnull=False,
        confirmed_at__gte=since, confirmed_at__lt=until,
    )  # fmt: skip
    return _rows(
        qs, x_source=F("pk"), x_user=F("raised_by"), x_at=F("confirmed_at"),
        x_team=F("round__team"), x_project=F("project"), x_value=NO_VALUE,
    )  # fmt: skip


def first_time_fix(since, until) -> QuerySet:
    """Closed, fixed on the first visit: not itself a revisit, and no revisit points at it."""
    revisits = WorkOrder.objects.filter(revisit_of=OuterRef("pk"))
    qs = WorkOrder.objects.filter(
        status=WorkOrderStatus.CLOSED, assignee__isnull=False, revisit_of__isnull=True,
        first_time_fix=True, closed_at__gte=since, closed_at__lt=until,
    ).filter(~Exists(revisits))  # fmt: skip
    return _rows(
        qs, x_source=F("pk"), x_user=F("assignee"), x_at=F("closed_at"),
        x_team=F("team"), x_project=F("project"), x_value=NO_VALUE,
    )  # fmt: skip


def csat(since, until) -> QuerySet:
    qs = Survey.objects.filter(submitted_at__gte=since, submitted_at__lt=until).annotate(
        who=Coalesce("engineer", "work_order__assignee")
    )
    return _rows(
        qs.filter(who__isnull=False), x_source=F("pk"), x_user=F("who"),
        x_at=F("submitted_at"), x_team=F("work_order__team"),
        x_project=F("work_order__project"), x_value=F("csat"),
    )  # fmt: skip


def sla_met(since, until) -> QuerySet:
    """Resolved (or closed) with the SLA met and never breached: pays the owner."""
    qs = Ticket.objects.filter(
        status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED], sla_state=SlaState.MET,
        sla_breached_at__isnull=True, resolved_at__gte=since, resolved_at__lt=until,
    )  # fmt: skip
    return _rows(
        qs, x_source=F("pk"), x_user=F("owner"), x_at=F("resolved_at"),
        x_team=F("team"), x_project=F("project"), x_value=NO_VALUE,
    )  # fmt: skip


SOURCES = {
    RuleEvent.ROUND_COMPLETED: round_completed,
    RuleEvent.ROUND_QUALITY: round_quality,
    RuleEvent.ROUND_MISSED: round_missed,
    RuleEvent.ANOMALY_CONFIRMED: anomaly_confirmed,
    RuleEvent.FIRST_TIME_FIX: first_time_fix,
    RuleEvent.CSAT: csat,
    RuleEvent.SLA_MET: sla_met,
}
