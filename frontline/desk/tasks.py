"""Background jobs of the service desk: the SLA sweep and recomputing after policy changes."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from frontline.desk import sla
from frontline.desk.models import Ticket
from frontline.desk.states import OPEN_STATUSES
from frontline.desk.sweep import deliver_notices, deliver_stale_notices, sweep

logger = logging.getLogger(__name__)


@shared_task(name="frontline.desk.tasks.sweep_sla")
def sweep_sla() -> dict[str, int]:
    """Fire due SLA warnings and breaches (beat: every minute).

    The notices of the committed batches go out in their own jobs
    (``deliver_sla_notices``); batches whose job was lost are delivered here, a
    couple of minutes late, never twice.
    """
    report = sweep(defer_notices=True, workers=settings.DESK_SLA_SWEEP_WORKERS)
    late = deliver_stale_notices()
    if late:
        logger.warning("SLA notices: delivered %d batches whose job was lost", late)
    if report.checked or report.skipped:
        logger.info(
            "SLA sweep: checked %d, warned %d, breached %d, tier raised %d, skipped %d",
            report.checked,
            report.warned,
            report.breached,
            report.tier_raised,
            report.skipped,
        )
    return report.as_dict()


@shared_task(name="frontline.desk.tasks.deliver_sla_notices")
def deliver_sla_notices(batch_ids: int | list[int]) -> int:
    """Write the inbox rows and email digests of sweep batches (one email per person and
    kind for them all); a repeat does nothing. A single id: a message queued before
    batches were delivered together."""
    return deliver_notices(batch_ids)


@shared_task(name="frontline.desk.tasks.recompute_policy_tickets")
def recompute_policy_tickets(scopes: list[list]) -> int:
    """Recompute the open tickets of each ``[project_id, severity]`` (after a policy or
    calendar change). Each ticket in its own transaction under its row lock."""
    query = None
    for project_id, severity in scopes:
        cond = Q(project_id=project_id, severity=severity)
        query = cond if query is None else query | cond
    if query is None:
        return 0
    ids = list(
        Ticket.objects.filter(query, status__in=OPEN_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update(of=("self",)).filter(pk=pk).first()
            if ticket is None:
                continue
            sla.recompute(ticket)
            done += 1
    logger.info("SLA recomputed for %d tickets after a policy change", done)
    return done
