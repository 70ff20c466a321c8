"""The SLA sweep's notifications: who hears of a warning or a breach, and what they read.

A warning goes to the ticket's owner; a breach to the team's lead, then to every
active manager of the operator, each in their own language and time zone. Keys
include the deadline, so a retry never notifies twice. A person with several notices
of one kind in a batch (or in batches delivered together) gets one email for all of them (:func:`digest`); each notice
still has its own inbox row.

The sweep hands what fired (``[ticket id, "warning" | "breach", deadline, target]``)
to :func:`send` inside its batch's transaction, or (the beat task) writes it as an
:class:`~frontline.desk.models.SlaNoticeBatch` that :func:`deliver_notices` sends
after commit, exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from frontline.accounts.models import Team, User
from frontline.accounts.roles import OrganizationKind, Role
from frontline.desk import sla
from frontline.desk.calendars import Calendar
from frontline.desk.models import SlaNoticeBatch, SlaPolicy, Ticket
from frontline.notifications import services as notifications

# A ticket number no URL pattern can confuse with the rest of the path.
_URL_PK = 918273645


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

    def load_people(self, tickets: list) -> None:
        """The owners and team leads of ``tickets``, each read once per run."""
        teams = {t.team_id for t in tickets if t.team_id is not None} - self.leads.keys()
        if teams:
            self.leads.update(Team.objects.filter(pk__in=teams).values_list("pk", "lead_id"))
        wanted = {t.owner_id for t in tickets}
        wanted.update(self.leads[t.team_id] for t in tickets if t.team_id is not None)
        missing = wanted - self.people.keys() - {None}
        if missing:
            self.people.update(User.objects.in_bulk(missing))

    def lead_of(self, ticket) -> User | None:
        lead_id = self.leads.get(ticket.team_id) if ticket.team_id is not None else None
        return self.people.get(lead_id) if lead_id is not None else None

    def managers(self) -> list[User]:
        if self._managers is None:
            self._managers = escalation_managers()
        return self._managers

    def ticket_url(self, ticket) -> str:
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


# What the notices of a ticket name (its number, title, owner and team's lead).
_SUBJECT = ["pk", "number", "title", "owner_id", "team_id"]


@dataclass(slots=True)
class _Subject:
    """A ticket as its notices name it (read when a deferred batch is delivered)."""

    pk: int
    number: str
    title: str
    owner_id: int
    team_id: int | None


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


WARNING, BREACH = "warning", "breach"


def _notices(fired, tickets, lookups: _Lookups) -> list[notifications.Notice]:
    """The notices of what fired, in order: a warning to the owner; a breach to the
    team's lead, then to every active manager. Keys include the deadline, so a retry
    never notifies twice."""
    lookups.load_people(list(tickets.values()))
    out: list[notifications.Notice] = []
    for pk, kind, due_iso, target in fired:
        ticket = tickets.get(pk)
        if ticket is None:  # pragma: no cover - tickets are never deleted
            continue
        due = dt.datetime.fromisoformat(due_iso) if due_iso else None
        if kind == WARNING:
            _notify(
                out,
                lookups,
                [lookups.people.get(ticket.owner_id)],
                kind="desk.sla_warning",
                ticket=ticket,
                due=due,
                target=target,
                title=_warning_title,
                body=_warning_body,
                dedupe_key=f"sla-warning:{pk}:{_key(due)}",
            )
            continue
        lead = lookups.lead_of(ticket)
        leads = [lead] if lead is not None and lead.is_active else []
        managers = [u for u in lookups.managers() if u not in leads]
        for recipients in (leads, managers):
            _notify(
                out,
                lookups,
                recipients,
                kind="desk.sla_breach",
                ticket=ticket,
                due=due,
                target=target,
                title=_breach_title,
                body=_breach_body,
                dedupe_key=f"sla-breach:{pk}:{_key(due)}",
            )
    return out


def send(fired, tickets, lookups: _Lookups) -> int:
    """Notify what fired (inbox rows, email digests); inside the caller's transaction."""
    return notifications.notify_many(
        _notices(fired, tickets, lookups), digest=partial(digest, inbox=lookups.inbox_url())
    )


def deliver_notices(batch_ids: int | Sequence[int]) -> int:
    """Deliver :class:`SlaNoticeBatch` rows (the beat sweep's notices), each exactly once.

    Under the batches' row locks (a batch another worker holds is skipped: that worker
    delivers it) and in one transaction with the inbox rows and emails, the batches are
    stamped delivered: a second delivery, or a retry after a crash, sends nothing more
    (and the inbox rows' dedupe keys would stop it anyway). The batches given together
    are notified together: a person gets one email per kind for all of them. Returns
    the inbox rows written.
    """
    ids = [batch_ids] if isinstance(batch_ids, int) else list(batch_ids)
    with transaction.atomic():
        batches = list(
            SlaNoticeBatch.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, delivered_at__isnull=True)
            .order_by("pk")
        )
        if not batches:
            return 0
        fired = [row for batch in batches for row in batch.fired]
        tickets = {
            row[0]: _Subject(*row)
            for row in Ticket.objects.filter(pk__in={row[0] for row in fired}).values_list(
                *_SUBJECT
            )
        }
        written = send(fired, tickets, _Lookups())
        SlaNoticeBatch.objects.filter(pk__in=[b.pk for b in batches]).update(
            delivered_at=timezone.now()
        )
    return written


# A deferred batch still pending this long after its sweep lost its job (a broker
# hiccup, a worker killed): the next beat sweep delivers it.
STALE_AFTER = dt.timedelta(minutes=2)
# At most this many batches in one delivery (one email per person and kind for them all).
DELIVER_TOGETHER = 10


def deliver_stale_notices(now: dt.datetime | None = None, *, limit: int = 100) -> int:
    """Deliver notice batches whose after-commit job never ran; returns how many."""
    now = now or timezone.now()
    stale = list(
        SlaNoticeBatch.objects.pending()
        .filter(created_at__lt=now - STALE_AFTER)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(stale), DELIVER_TOGETHER):
        deliver_notices(stale[start : start + DELIVER_TOGETHER])
    return len(stale)


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


def _notify(
    out: list, lookups: _Lookups, recipients, *, kind, ticket, due, target, title, body, dedupe_key
):
    """One notice per recipient, in the recipient's language and time zone."""
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
        out.append(
            notifications.Notice(
                recipients=[user],
                kind=kind,
                title=(lookups.text(language, title) % values)[:200],
                body=lookups.text(language, body) % values,
                url=url,
                dedupe_key=dedupe_key,
            )
        )


__all__ = [
    "BREACH",
    "DIGEST_LISTED",
    "WARNING",
    "deliver_notices",
    "deliver_stale_notices",
    "digest",
    "escalation_managers",
    "send",
]
