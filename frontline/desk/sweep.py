"""The SLA sweep: fire due warnings and breaches, once each, in order.

Celery beat runs :func:`sweep` every minute (``frontline.desk.tasks.sweep_sla``). It
works in batches of tickets whose ``sla_next_check_at`` has come, oldest first, found
through the partial index ``ticket_sla_sweep_idx``. Each batch is one transaction: one
``SELECT … FOR UPDATE OF desk_ticket SKIP LOCKED`` takes the row locks, so two sweeps
(or a sweep and a ticket service holding a row) never work on the same ticket at once:
the one that cannot lock it leaves it to the next run. In that transaction the sweep
stamps ``sla_warned_at`` (with the warning moment) / ``sla_breached_at`` (with the
time of the run), writes the timeline events, queues
the notifications (the outbox sends them after commit), raises the tier when the
policy says so, and moves ``sla_next_check_at`` to the next pending moment (or NULL),
with a fixed number of statements per batch whatever its size: pauses, one UPDATE of
the tickets and one INSERT of events (``sweep_writes``: one array parameter per
column on PostgreSQL), and ``notify_many``'s INSERTs. The tickets are read as plain
values, their owners and team leads once per run.

Idempotent: a stamp is what makes a warning or breach "done", and it is written in the
same transaction as its event and notifications, so a second run finds nothing to do.
After downtime the first run catches up: a missed warning fires, then the breach.
Breach notifications go to the ticket team's lead, then to every active manager of
the operator; warnings to the owner. Notification keys include the deadline, so a
retry never notifies twice.

Each ticket gets its own inbox row per recipient (a link to act on, read or unread on
its own); the email is a digest: a person with several warnings (or breaches) in one
batch gets one email listing them (:func:`digest`), a person with one gets that
ticket's email as before.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from frontline.accounts.models import Team, User
from frontline.accounts.roles import OrganizationKind, Role
from frontline.desk import sla, sweep_writes
from frontline.desk.calendars import Calendar
from frontline.desk.models import SlaPause, SlaPolicy, Ticket
from frontline.desk.states import TIER_ORDER, EventKind, Tier
from frontline.notifications import services as notifications

logger = logging.getLogger(__name__)

# One transaction each: its row locks are held for about a second at this size (a
# ticket service touching one of those tickets waits that long), and each person gets
# at most one email per kind per batch.
BATCH_SIZE = 5000
# A ticket number no URL pattern can confuse with the rest of the path.
_URL_PK = 918273645


@dataclass
class SweepReport:
    checked: int = 0  # tickets looked at under lock
    warned: int = 0
    breached: int = 0
    tier_raised: int = 0
    skipped: int = 0  # still due after the run: locked by someone else, left to the next run

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Lookups:
    """What a run reads or builds once, not per ticket: policies and their calendars,
    the managers, the ticket link, the notification texts per language."""

    def __init__(self):
        self.policies: dict[int, SlaPolicy | None] = {}
        self.calendars: dict[int, Calendar] = {}
        self._managers: list[User] | None = None
        self.people: dict[int, User] = {}
        self.leads: dict[int, int | None] = {}  # team id -> its lead's id
        self._url: str | None = None
        self._inbox: str | None = None
        self._texts: dict[tuple[str, str], str] = {}
        self._zones: dict[str, ZoneInfo] = {}

    def load_policies(self, ids) -> None:
        missing = {pk for pk in ids if pk is not None and pk not in self.policies}
        if not missing:
            return
        found = (
            SlaPolicy.objects.select_related("project", "calendar")
            .prefetch_related("calendar__periods", "calendar__closed_days")
            .in_bulk(missing)
        )
        for pk in missing:
            self.policies[pk] = found.get(pk)

    def policy(self, policy_id: int | None) -> SlaPolicy | None:
        if policy_id is None:
            return None
        self.load_policies([policy_id])
        return self.policies[policy_id]

    def calendar(self, policy: SlaPolicy | None) -> Calendar | None:
        if policy is None:
            return None
        if policy.pk not in self.calendars:
            self.calendars[policy.pk] = Calendar.from_model(policy.calendar)
        return self.calendars[policy.pk]

    def load_people(self, tickets: list[_Due]) -> None:
        """The owners and team leads of ``tickets``, each read once per run."""
        teams = {t.team_id for t in tickets if t.team_id is not None} - self.leads.keys()
        if teams:
            self.leads.update(Team.objects.filter(pk__in=teams).values_list("pk", "lead_id"))
        wanted = {t.owner_id for t in tickets}
        wanted.update(self.leads[t.team_id] for t in tickets if t.team_id is not None)
        missing = wanted - self.people.keys() - {None}
        if missing:
            self.people.update(User.objects.in_bulk(missing))

    def lead_of(self, ticket: _Due) -> User | None:
        lead_id = self.leads.get(ticket.team_id) if ticket.team_id is not None else None
        return self.people.get(lead_id) if lead_id is not None else None

    def managers(self) -> list[User]:
        if self._managers is None:
            self._managers = escalation_managers()
        return self._managers

    def ticket_url(self, ticket: _Due) -> str:
        # Reversing costs more than the rest of a ticket's check: once per run.
        if self._url is None:
            try:
                self._url = Ticket(pk=_URL_PK).get_absolute_url()
            except NoReverseMatch:
                self._url = ""
        return self._url.replace(str(_URL_PK), str(ticket.pk))

    def inbox_url(self) -> str:
        if self._inbox is None:
            try:
                self._inbox = reverse("notifications:inbox")
            except NoReverseMatch:
                self._inbox = ""
        return self._inbox

    def text(self, language: str, message) -> str:
        """``message()`` (a function returning a translated string) in ``language``, cached."""
        key = (language, message.__name__)
        if key not in self._texts:
            with translation.override(language):
                self._texts[key] = message()
        return self._texts[key]

    def zone(self, name: str) -> ZoneInfo:
        if name not in self._zones:
            self._zones[name] = ZoneInfo(name)
        return self._zones[name]


@dataclass(slots=True)
class _Due:
    """A locked ticket as the sweep reads it: what the SLA engine and the notices need
    (plain values: a model instance per row, with owner and team joined, cost more than
    the rest of the check)."""

    pk: int
    number: str
    title: str
    status: str
    tier: str
    created_at: dt.datetime
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    sla_warned_at: dt.datetime | None
    sla_breached_at: dt.datetime | None
    sla_policy_id: int | None
    sla_next_check_at: dt.datetime
    owner_id: int
    team_id: int | None


_COLUMNS = [f.name for f in fields(_Due)]
_COLUMNS[0] = "pk"


@dataclass
class _Batch:
    """What one batch writes, gathered while its tickets are checked."""

    now: dt.datetime
    lookups: _Lookups
    results: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    notices: list[notifications.Notice] = field(default_factory=list)
    tier_raised: bool = False

    def event(self, ticket: _Due, kind: str, data: dict) -> None:
        # What record_event writes for a system event (no author, no body), in bulk.
        self.events.append((ticket.pk, kind, data))

    def result(self, ticket: _Due, result: sla.SlaResult, policy: SlaPolicy | None) -> None:
        # The values recompute stores (sla.write_result), and the tier.
        self.results.append(
            (
                ticket.pk,
                policy.pk if policy is not None else None,
                result.state,
                result.first_response_due_at,
                result.resolution_due_at,
                result.warning_at,
                result.next_check_at,
                result.warned_at,
                result.breached_at,
                ticket.tier,
            )
        )

    def write(self) -> None:
        sweep_writes.update_tickets(self.results, tier=self.tier_raised)
        sweep_writes.insert_events(self.events)
        notifications.notify_many(
            self.notices, digest=partial(digest, inbox=self.lookups.inbox_url())
        )


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
        with transaction.atomic():
            seen = _check_batch(due, now=now, report=report, lookups=lookups, limit=batch_size)
        if len(seen) < batch_size:
            break
        after = seen[-1]
    report.skipped = Ticket.objects.filter(sla_next_check_at__lte=now).count()
    return report


def check_ticket(
    pk: int,
    *,
    now: dt.datetime,
    report: SweepReport | None = None,
    lookups: _Lookups | None = None,
) -> None:
    """Fire what is due on one ticket, in its own transaction (a one-ticket batch)."""
    report = report if report is not None else SweepReport()
    with transaction.atomic():
        due = Ticket.objects.filter(pk=pk, sla_next_check_at__lte=now)
        if not _check_batch(due, now=now, report=report, lookups=lookups or _Lookups()):
            report.skipped += 1


def _check_batch(due, *, now, report, lookups, limit=None) -> list[tuple[dt.datetime, int]]:
    """Lock the first ``limit`` tickets of ``due`` that nobody else holds, fire what is
    due on them and write it all (call inside a transaction). Returns the (next check,
    pk) of each, in order."""
    locked = (
        due.select_for_update(skip_locked=True, of=("self",))
        .order_by("sla_next_check_at", "pk")
        .values_list(*_COLUMNS)
    )
    tickets = [_Due(*row) for row in (locked[:limit] if limit else locked)]
    if not tickets:
        return []
    seen = [(t.sla_next_check_at, t.pk) for t in tickets]
    pauses: dict[int, list[sla.Pause]] = defaultdict(list)
    rows = SlaPause.objects.filter(ticket_id__in=[t.pk for t in tickets]).values_list(
        "ticket_id", "started_at", "ended_at"
    )
    for ticket_id, started_at, ended_at in rows:
        pauses[ticket_id].append((started_at, ended_at))
    lookups.load_policies({t.sla_policy_id for t in tickets})
    lookups.load_people(tickets)
    batch = _Batch(now=now, lookups=lookups)
    for ticket in tickets:
        _check(ticket, pauses[ticket.pk], batch=batch, report=report)
    batch.write()
    report.checked += len(tickets)
    return seen


def _check(ticket: _Due, pauses: list, *, batch: _Batch, report: SweepReport) -> None:
    """Fire what is due on one locked ticket; its writes go to ``batch``."""
    now, lookups = batch.now, batch.lookups
    policy = lookups.policy(ticket.sla_policy_id)
    calendar = lookups.calendar(policy)

    def evaluate():
        return sla.evaluate(
            ticket, policy=policy, calendar=calendar, pauses=pauses, now=now, explain=False
        )

    result = evaluate()
    ticket.sla_warned_at = result.warned_at
    if result.warning_due:
        # The moment warned of, not the clock: after downtime a late stamp would hide
        # the next target's warning (recompute clears a stamp before the new moment).
        ticket.sla_warned_at = result.warning_at
        _warn(ticket, result, batch)
        report.warned += 1
    if result.breach_due:
        ticket.sla_breached_at = now
        _breach(ticket, result, batch)
        report.breached += 1
        new_tier = _raised_tier(ticket.tier, policy.raise_tier_on_breach)
        if new_tier:
            batch.event(
                ticket,
                EventKind.TIER,
                {"from": ticket.tier, "to": new_tier, "reason": "sla_breach"},
            )
            ticket.tier = new_tier
            batch.tier_raised = True
            report.tier_raised += 1
    if result.warning_due or result.breach_due:
        result = evaluate()
    batch.result(ticket, result, policy)


def _raised_tier(current: str, target: str) -> str | None:
    if not target or target not in TIER_ORDER:
        return None
    order = [str(t) for t in TIER_ORDER]
    here = order.index(current) if current in order else order.index(Tier.L1)
    return target if order.index(target) > here else None


def _target_of(result, due: dt.datetime | None) -> str:
    return sla.FIRST_RESPONSE if due == result.first_response_due_at else sla.RESOLUTION


def _first_response_label() -> str:
    return _("first response")


def _resolution_label() -> str:
    return _("resolution")


def _warning_title() -> str:
    return _("SLA warning: %(number)s %(title)s")


def _warning_body() -> str:
    return _("The %(target)s is due at %(due)s.")


def _breach_title() -> str:
    return _("SLA breached: %(number)s %(title)s")


def _breach_body() -> str:
    return _("The %(target)s was due at %(due)s. Owner: %(owner)s.")


def _key(due: dt.datetime | None) -> str:
    """The deadline in a notification key: UTC ISO 8601, so a retry builds the same key."""
    return due.astimezone(dt.UTC).isoformat() if due else "none"


def _warn(ticket, result, batch: _Batch) -> None:
    due = result.active_due_at
    batch.event(
        ticket,
        EventKind.SLA_WARNING,
        {
            "target": result.active_target,
            "due": due.isoformat() if due else None,
            "warning_at": result.warning_at.isoformat() if result.warning_at else None,
        },
    )
    _notify(
        batch,
        [batch.lookups.people.get(ticket.owner_id)],
        kind="desk.sla_warning",
        ticket=ticket,
        due=due,
        target=result.active_target or sla.RESOLUTION,
        title=_warning_title,
        body=_warning_body,
        dedupe_key=f"sla-warning:{ticket.pk}:{_key(due)}",
    )


def _breach(ticket, result, batch: _Batch) -> None:
    due = result.breach_due_at
    target = _target_of(result, due)
    batch.event(
        ticket, EventKind.SLA_BREACH, {"target": target, "due": due.isoformat() if due else None}
    )
    lead = batch.lookups.lead_of(ticket)
    leads = [lead] if lead is not None and lead.is_active else []
    managers = [u for u in batch.lookups.managers() if u not in leads]
    for recipients in (leads, managers):
        _notify(
            batch,
            recipients,
            kind="desk.sla_breach",
            ticket=ticket,
            due=due,
            target=target,
            title=_breach_title,
            body=_breach_body,
            dedupe_key=f"sla-breach:{ticket.pk}:{_key(due)}",
        )


# How many tickets a digest email lists one by one (the inbox has every one).
DIGEST_LISTED = 25


def digest(
    user, kind: str, notices: list[notifications.Notified], *, inbox: str = ""
) -> tuple[str, str, str]:
    """One email for all of a person's warnings (or breaches) of one batch.

    A manager whose desk missed 3,000 deadlines in one minute is not helped by 3,000
    emails: they get one that lists the first ``DIGEST_LISTED`` (title, deadline,
    link) and counts the rest, and links the inbox, which has a row for every ticket.
    Called by ``notify_many`` in the reader's language.
    """
    count = len(notices)
    if kind == "desk.sla_breach":
        title = ngettext(
            "SLA breached on %(count)d ticket", "SLA breached on %(count)d tickets", count
        )
    else:
        title = ngettext(
            "SLA warning on %(count)d ticket", "SLA warnings on %(count)d tickets", count
        )
    lines = []
    for notice in notices[:DIGEST_LISTED]:
        link = f"\n  {settings.SITE_URL}{notice.url}" if notice.url else ""
        lines.append(f"{notice.title}\n  {notice.body}{link}")
    rest = count - DIGEST_LISTED
    if rest > 0:
        lines.append(
            ngettext(
                "… and %(count)d more ticket: your inbox lists every one.",
                "… and %(count)d more tickets: your inbox lists every one.",
                rest,
            )
            % {"count": rest}
        )
    return title % {"count": count}, "\n\n".join(lines), inbox


def escalation_managers() -> list[User]:
    """Active managers of the operator, who hear of every breach."""
    return list(
        User.objects.filter(
            is_active=True,
            membership__role=Role.MANAGER,
            membership__organization__kind=OrganizationKind.OPERATOR,
        ).order_by("pk")
    )


def _notify(batch: _Batch, recipients, *, kind, ticket, due, target, title, body, dedupe_key):
    """One notice per recipient, in the recipient's language and time zone."""
    lookups = batch.lookups
    url = lookups.ticket_url(ticket)
    label = _first_response_label if target == sla.FIRST_RESPONSE else _resolution_label
    owner = lookups.people.get(ticket.owner_id)
    for user in recipients:
        language = user.preferred_language or settings.LANGUAGE_CODE
        when = (
            f"{timezone.localtime(due, lookups.zone(user.time_zone)):%Y-%m-%d %H:%M}"
            if due
            else "—"
        )
        values = {
            "number": ticket.number,
            "title": ticket.title,
            "target": lookups.text(language, label),
            "due": when,
            "owner": str(owner) if owner is not None else "—",
        }
        batch.notices.append(
            notifications.Notice(
                recipients=[user],
                kind=kind,
                title=(lookups.text(language, title) % values)[:200],
                body=lookups.text(language, body) % values,
                url=url,
                dedupe_key=dedupe_key,
            )
        )


__all__ = ["SweepReport", "check_ticket", "digest", "escalation_managers", "sweep"]
