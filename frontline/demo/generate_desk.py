"""Tickets in bulk: lifecycle stamps, SLA fields from ``desk.sla.compute``, and events.

Each ticket is created by a contact of its customer (portal, chat, API) or by an agent
for them (phone, email), owned by an agent, and walks new → in progress → resolved →
closed as far as its age allows. Its SLA fields are what the rules give for those
stamps at ``now`` (the warnings and breaches that fell due are stamped, as the sweep
would have done), and its timeline holds one event per step.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from frontline.demo import desk_data
from frontline.demo.bulk_writer import Table, fix_sequence, next_id
from frontline.desk import sla
from frontline.desk.models import SlaClock, Ticket, TicketEvent
from frontline.desk.states import EventKind, SlaState
from frontline.desk.states import TicketStatus as S

TICKET_COLUMNS = (
    "id", "number", "title", "description", "customer_id", "contact_id", "project_id",
    "site_id", "channel", "severity", "status", "team_id", "tier", "owner_id",
    "first_handled_at", "created_by_id", "sla_policy_id", "sla_state", "first_response_due_at",
    "resolution_due_at", "sla_warning_at", "sla_next_check_at", "sla_warned_at",
    "sla_breached_at", "first_responded_at", "resolved_at", "closed_at", "rating",
    "created_at", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = ("ticket_id", "kind", "public", "author_id", "body", "data", "created_at")
SEVERITIES = ("S1", "S2", "S3", "S4")
CHANNELS = (("portal", 50), ("email", 20), ("phone", 15), ("api", 8), ("chat", 7))
STAFF_CHANNELS = {"email", "phone"}
# How long work takes after the first response (minutes), by severity.
WORK = {"S1": (60, 300), "S2": (120, 600), "S3": (240, 2400), "S4": (600, 5000)}
CHUNK = 20_000


def _requests() -> list[tuple[str, str, str]]:
    """(severity weights key, title, description) of every demo request."""
    return [(w, title, body) for rows in desk_data.REQUESTS.values() for _, w, title, body in rows]


class _Draw:
    """One ticket's lifecycle drawn from the random stream."""

    def __init__(self, world, rng: random.Random, now: dt.datetime, days: int, requests):
        self.world, self.rng, self.now, self.days, self.requests = world, rng, now, days, requests
        self.channels = [c for c, _ in CHANNELS]
        self.channel_weights = [w for _, w in CHANNELS]

    def ticket(self, pk: int) -> tuple[tuple, list[tuple], dt.datetime | None]:
        rng, world, now = self.rng, self.world, self.now
        customer = world.customers[pk % len(world.customers)]
        project_id, sites = customer.projects[pk % len(customer.projects)]
        weights, title, description = rng.choice(self.requests)
        severity = rng.choices(SEVERITIES, desk_data.SEVERITY_WEIGHTS[weights])[0]
        channel = rng.choices(self.channels, self.channel_weights)[0]
        contact = rng.choice(customer.contacts)
        owner = world.agents[pk % len(world.agents)]
        creator = owner if channel in STAFF_CHANNELS else contact
        created = now - dt.timedelta(seconds=int(self.days * 86400 * rng.random() ** 1.5) + 60)
        policy_id, targets, calendar = world.policies.get((project_id, severity), (None,) * 3)
        responded, resolved, closed = self._stamps(created, targets, severity)
        status = (
            S.CLOSED
            if closed
            else S.RESOLVED
            if resolved
            else S.IN_PROGRESS
            if responded
            else S.NEW
        )
        result = _sla(created, targets, calendar, responded, resolved, now)
        rating = rng.choice((3, 4, 5, 5, 5)) if closed and rng.random() < 0.6 else None
        row = (
            pk, f"T-{pk:06d}", title, f"<p>{description}</p>", customer.id, contact, project_id,
            sites[pk % len(sites)] if sites else None, channel, severity, status,
            world.teams[pk % len(world.teams)], "l1", owner, responded, creator, policy_id,
            result.state, result.first_response_due_at, result.resolution_due_at,
            result.warning_at, result.next_check_at, result.warned_at, result.breached_at,
            responded, resolved, closed, rating, created, closed or resolved or responded or created,
        )  # fmt: skip
        events = self._events(pk, row, result, contact, owner, creator, rating)
        return row, events, result.next_check_at

    def _stamps(self, created, targets, severity):
        rng, now = self.rng, self.now
        if targets is None or rng.random() < 0.04:
            return None, None, None
        responded = created + dt.timedelta(
            minutes=targets.first_response_minutes * rng.uniform(0.05, 1.15)
        )
        if responded >= now:
            return None, None, None
        low, high = WORK[severity]
        resolved = responded + dt.timedelta(minutes=rng.uniform(low, high))
        if resolved >= now or rng.random() < 0.03:
            return responded, None, None
        closed = resolved + dt.timedelta(hours=rng.uniform(1, 72))
        return responded, resolved, closed if closed < now else None

    def _events(self, pk, row, result, contact, owner, creator, rating) -> list[tuple]:
        rng = self.rng
        created, responded, resolved, closed = row[-2], row[24], row[25], row[26]
        data = {"channel": row[8], "severity": row[9], "owner": owner}
        events = [(pk, EventKind.CREATED, True, creator, "", data, created)]
        if responded:
            reply = rng.choice(desk_data.FIRST_REPLIES).format(engineer="值班工程师")
            events.append((pk, EventKind.REPLY, True, owner, f"<p>{reply}</p>", {}, responded))
            events.append((pk, EventKind.STATUS, True, owner, "", _move(S.NEW, S.IN_PROGRESS),
                           responded))  # fmt: skip
        if result.warned_at:
            data = {
                "target": result.active_target or sla.RESOLUTION,
                "due": _iso(result.active_due_at or row[19]),
            }
            events.append((pk, EventKind.SLA_WARNING, False, None, "", data, result.warned_at))
        if result.breached_at:
            data = {"target": sla.RESOLUTION, "due": _iso(result.breached_at)}
            events.append((pk, EventKind.SLA_BREACH, False, None, "", data, result.breached_at))
        if resolved:
            text = rng.choice(desk_data.RESOLUTIONS)
            events.append((pk, EventKind.REPLY, True, owner, f"<p>{text}</p>", {}, resolved))
            events.append((pk, EventKind.STATUS, True, owner, "", _move(S.IN_PROGRESS, S.RESOLVED),
                           resolved))  # fmt: skip
        if closed:
            events.append((pk, EventKind.STATUS, True, contact, "", _move(S.RESOLVED, S.CLOSED),
                           closed))  # fmt: skip
            if rating:
                events.append((pk, EventKind.RATING, True, contact, "", {"rating": rating},
                               closed))  # fmt: skip
        return events


def _move(old: str, new: str) -> dict:
    return {"from": str(old), "to": str(new)}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment else None


def _sla(created, targets, calendar, responded, resolved, now) -> sla.SlaResult:
    """The rules' result, with the warnings and breaches that fell due stamped (as the
    sweep stamps them when it fires them)."""
    if targets is None:
        return sla.SlaResult(state=SlaState.NONE, warned_at=None, breached_at=None)
    kwargs = {"created_at": created, "policy_targets": targets, "calendar": calendar,
              "pauses": (), "first_responded_at": responded, "resolved_at": resolved}  # fmt: skip
    result = sla.compute(now=now, explain=False, **kwargs)
    until = resolved or now
    warned = result.warning_at if result.warning_at and result.warning_at <= until else None
    breached = result.breach_due_at if result.breach_due else None
    if warned is None and breached is None:
        return result
    return sla.restamp(result, now=now, warned_at=warned, breached_at=breached)


def write(*, world, count: int, now, days: int, rng, progress: Callable[[str], None]) -> dict:
    """Write ``count`` tickets with their events and SLA clocks; return the row counts."""
    tickets = Table(Ticket, TICKET_COLUMNS)
    events = Table(TicketEvent, EVENT_COLUMNS)
    clocks = Table(SlaClock, ("ticket_id", "next_check_at"))
    draw = _Draw(world, rng, now, days, _requests())
    first = next_id(Ticket)
    for start in range(first, first + count, CHUNK):
        rows, timeline, due = [], [], []
        for pk in range(start, min(start + CHUNK, first + count)):
            row, evs, next_check = draw.ticket(pk)
            rows.append(row)
            timeline.extend(evs)
            if next_check is not None:
                due.append((pk, next_check))
        tickets.write(rows)
        events.write(timeline)
        clocks.write(due)
        progress(f"  tickets {tickets.written:,}/{count:,}, events {events.written:,}")
    fix_sequence(Ticket)
    return {"tickets": tickets.written, "ticket_events": events.written}
