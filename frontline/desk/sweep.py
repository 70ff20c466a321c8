"""The SLA sweep: fire due warnings and breaches, once each, in order.

Celery beat runs :func:`sweep` every minute (``frontline.desk.tasks.sweep_sla``). It
finds the tickets whose ``sla_next_check_at`` has come through the partial index
``ticket_sla_sweep_idx``, oldest first, in batches. Each ticket is handled in its own
transaction under a row lock taken with SKIP LOCKED, so two sweeps (or a sweep and a
ticket service holding the row) never work on the same ticket at once: the one that
cannot lock it leaves it to the next run. In that transaction the sweep stamps
``sla_warned_at`` / ``sla_breached_at``, writes the timeline event, queues the
notifications (the outbox sends them after commit), raises the tier when the policy
says so, and moves ``sla_next_check_at`` to the next pending moment (or NULL).

Idempotent: a stamp is what makes a warning or breach "done", and it is written in the
same transaction as its event and notifications, so a second run finds nothing to do.
After downtime the first run catches up: a missed warning fires, then the breach.
Breach notifications go to the ticket team's lead, then to every active manager of
the operator; warnings to the owner. Notification keys include the deadline, so a
retry never notifies twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from frontline.accounts.models import User
from frontline.accounts.roles import OrganizationKind, Role
from frontline.desk import sla
from frontline.desk.events import record_event
from frontline.desk.models import SlaPause, SlaPolicy, Ticket
from frontline.desk.states import TIER_ORDER, EventKind, Tier
from frontline.notifications import services as notifications

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass
class SweepReport:
    checked: int = 0  # tickets looked at under lock
    warned: int = 0
    breached: int = 0
    tier_raised: int = 0
    skipped: int = 0  # locked by someone else, or no longer due when locked

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Lookups:
    """What a run reads once, not per ticket: policies with their calendars, the managers."""

    def __init__(self):
        self.policies: dict[int, object] = {}
        self._managers: list[User] | None = None

    def policy(self, policy_id: int | None):
        if policy_id is None:
            return None
        if policy_id not in self.policies:
            self.policies[policy_id] = (
                SlaPolicy.objects.select_related("project", "calendar")
                .prefetch_related("calendar__periods", "calendar__closed_days")
                .filter(pk=policy_id)
                .first()
            )
        return self.policies[policy_id]

    def managers(self) -> list[User]:
        if self._managers is None:
            self._managers = escalation_managers()
        return self._managers


def sweep(now: dt.datetime | None = None, *, batch_size: int = BATCH_SIZE) -> SweepReport:
    """Handle every ticket whose next SLA check is due at ``now`` (default: the clock)."""
    now = now or timezone.now()
    report = SweepReport()
    lookups = _Lookups()
    after: tuple[dt.datetime, int] | None = None
    while True:
        due = Ticket.objects.filter(sla_next_check_at__lte=now)
        if after is not None:
            # Keyset paging: a row skipped because it was locked is not read again.
            due = due.filter(
                Q(sla_next_check_at__gt=after[0]) | Q(sla_next_check_at=after[0], pk__gt=after[1])
            )
        batch = list(
            due.order_by("sla_next_check_at", "pk").values_list("sla_next_check_at", "pk")[
                :batch_size
            ]
        )
        for _next_check, pk in batch:
            check_ticket(pk, now=now, report=report, lookups=lookups)
        if len(batch) < batch_size:
            return report
        after = batch[-1]


def check_ticket(
    pk: int,
    *,
    now: dt.datetime,
    report: SweepReport | None = None,
    lookups: _Lookups | None = None,
) -> None:
    """Fire what is due on one ticket, in its own transaction."""
    report = report if report is not None else SweepReport()
    lookups = lookups if lookups is not None else _Lookups()
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=pk, sla_next_check_at__lte=now)
            .first()
        )
        if ticket is None:
            report.skipped += 1
            return
        report.checked += 1
        policy = lookups.policy(ticket.sla_policy_id)
        pauses = list(
            SlaPause.objects.filter(ticket_id=ticket.pk).values_list("started_at", "ended_at")
        )
        result = sla.evaluate(ticket, policy=policy, pauses=pauses, now=now)
        ticket.sla_warned_at = result.warned_at
        extra: dict = {}
        if result.warning_due:
            ticket.sla_warned_at = now
            _warn(ticket, result)
            report.warned += 1
        if result.breach_due:
            ticket.sla_breached_at = now
            _breach(ticket, result, lookups.managers())
            report.breached += 1
            new_tier = _raised_tier(ticket.tier, policy.raise_tier_on_breach)
            if new_tier:
                record_event(
                    ticket=ticket,
                    kind=EventKind.TIER,
                    data={"from": ticket.tier, "to": new_tier, "reason": "sla_breach"},
                )
                extra["tier"] = new_tier
                report.tier_raised += 1
        if result.warning_due or result.breach_due:
            result = sla.evaluate(ticket, policy=policy, pauses=pauses, now=now)
        sla.write_result(ticket, result, policy=policy, extra=extra)


def _raised_tier(current: str, target: str) -> str | None:
    if not target or target not in TIER_ORDER:
        return None
    order = [str(t) for t in TIER_ORDER]
    here = order.index(current) if current in order else order.index(Tier.L1)
    return target if order.index(target) > here else None


def _target_of(result, due: dt.datetime | None) -> str:
    return sla.FIRST_RESPONSE if due == result.first_response_due_at else sla.RESOLUTION


def _target_label(target: str) -> str:
    return _("first response") if target == sla.FIRST_RESPONSE else _("resolution")


def _key(due: dt.datetime | None) -> str:
    """The deadline in a notification key: UTC ISO 8601, so a retry builds the same key."""
    return due.astimezone(dt.UTC).isoformat() if due else "none"


def _warn(ticket, result) -> None:
    due = result.active_due_at
    record_event(
        ticket=ticket,
        kind=EventKind.SLA_WARNING,
        data={
            "target": result.active_target,
            "due": due.isoformat() if due else None,
            "warning_at": result.warning_at.isoformat() if result.warning_at else None,
        },
    )
    _notify(
        [ticket.owner],
        kind="desk.sla_warning",
        ticket=ticket,
        due=due,
        target=result.active_target or sla.RESOLUTION,
        title=lambda: _("SLA warning: %(number)s %(title)s"),
        body=lambda: _("The %(target)s is due at %(due)s."),
        dedupe_key=f"sla-warning:{ticket.pk}:{_key(due)}",
    )


def _breach(ticket, result, escalation: list[User]) -> None:
    due = result.breach_due_at
    target = _target_of(result, due)
    record_event(
        ticket=ticket,
        kind=EventKind.SLA_BREACH,
        data={"target": target, "due": due.isoformat() if due else None},
    )
    lead = ticket.team.lead if ticket.team_id and ticket.team.lead_id else None
    leads = [lead] if lead is not None and lead.is_active else []
    managers = [u for u in escalation if u not in leads]
    for recipients in (leads, managers):
        _notify(
            recipients,
            kind="desk.sla_breach",
            ticket=ticket,
            due=due,
            target=target,
            title=lambda: _("SLA breached: %(number)s %(title)s"),
            body=lambda: _("The %(target)s was due at %(due)s. Owner: %(owner)s."),
            dedupe_key=f"sla-breach:{ticket.pk}:{_key(due)}",
        )


def escalation_managers() -> list[User]:
    """Active managers of the operator, who hear of every breach."""
    return list(
        User.objects.filter(
            is_active=True,
            membership__role=Role.MANAGER,
            membership__organization__kind=OrganizationKind.OPERATOR,
        ).order_by("pk")
    )


def _ticket_url(ticket) -> str:
    try:
        return ticket.get_absolute_url()
    except NoReverseMatch:
        return ""


def _notify(recipients, *, kind, ticket, due, target, title, body, dedupe_key) -> None:
    """One call per recipient, in the recipient's language and time zone."""
    url = _ticket_url(ticket)
    for user in recipients:
        language = user.preferred_language or settings.LANGUAGE_CODE
        with translation.override(language), timezone.override(user.time_zone):
            when = f"{timezone.localtime(due):%Y-%m-%d %H:%M}" if due else "—"
            values = {
                "number": ticket.number,
                "title": ticket.title,
                "target": _target_label(target),
                "due": when,
                "owner": str(ticket.owner),
            }
            notifications.notify(
                recipients=[user],
                kind=kind,
                title=(title() % values)[:200],
                body=body() % values,
                url=url,
                dedupe_key=dedupe_key,
            )


__all__ = ["SweepReport", "check_ticket", "escalation_managers", "sweep"]
