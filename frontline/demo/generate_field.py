"""Work orders in bulk, with their timelines.

Orders older than two days are done: mostly closed (created → dispatched → accepted →
checked in → checked out → completed → closed), some cancelled. The last two days hold
the live queue: new, dispatched to an engineer for today (what engineers accept, check
in and complete in the load benchmark), accepted, on site, completed. Every order
belongs to a customer's project site; a dispatched order names its engineer and team.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

from frontline.demo import field_data
from frontline.demo.bulk_writer import Table, fix_sequence, next_id
from frontline.field.models import WorkOrder, WorkOrderEvent
from frontline.field.states import EventKind
from frontline.field.states import WorkOrderStatus as W

ORDER_COLUMNS = (
    "id", "number", "type", "title", "description", "customer_id", "project_id", "site_id",
    "priority", "estimated_minutes", "window_start", "window_end", "status", "team_id",
    "assignee_id", "dispatched_via", "planned_start", "checked_in_at", "check_in_latitude",
    "check_in_longitude", "check_in_distance_m", "checked_out_at", "resolution_code",
    "resolution_notes", "first_time_fix", "created_by_id", "created_at", "updated_at",
    "dispatched_at", "accepted_at", "completed_at", "closed_at",
)  # fmt: skip
EVENT_COLUMNS = ("work_order_id", "kind", "public", "author_id", "body", "data", "latitude",
                 "longitude", "created_at")  # fmt: skip
PRIORITIES = (("low", 15), ("normal", 60), ("high", 20), ("urgent", 5))
# The live queue (last two days): status weights.
LIVE = ((W.NEW, 15), (W.DISPATCHED, 50), (W.ACCEPTED, 10), (W.ON_SITE, 10), (W.COMPLETED, 15))
STEPS = [W.DISPATCHED, W.ACCEPTED, W.ON_SITE, W.COMPLETED, W.CLOSED]
CHUNK = 20_000


def _jobs() -> list[tuple[str, str, int]]:
    return [
        (kind, title.format(asset="设备"), minutes)
        for rows in field_data.JOBS.values()
        for kind, title, _skill, _level, minutes in rows
    ]


class _Draw:
    def __init__(self, world, rng: random.Random, now: dt.datetime, days: int):
        self.world, self.rng, self.now, self.days = world, rng, now, days
        self.jobs = _jobs()
        self.sites = [
            (c, p, s) for c in world.customers for p, sites in c.projects for s in sites
        ] or [(c, p, None) for c in world.customers for p, _ in c.projects]
        self.dispatcher = world.agents[0]

    def order(self, pk: int) -> tuple[tuple, list[tuple]]:
        rng, now = self.rng, self.now
        customer, project_id, site_id = self.sites[pk % len(self.sites)]
        kind, title, minutes = rng.choice(self.jobs)
        engineer = self.world.engineers[pk % len(self.world.engineers)]
        team = self.world.engineer_teams.get(engineer, self.world.teams[0])
        live = rng.random() < 0.1
        if live:
            created = now - dt.timedelta(minutes=rng.uniform(5, 2 * 1440))
            status = rng.choices([s for s, _ in LIVE], [w for _, w in LIVE])[0]
            window = now.replace(hour=1, minute=0, second=0)  # today, 09:00 Beijing
        else:
            created = now - dt.timedelta(minutes=rng.uniform(2 * 1440, self.days * 1440))
            status = W.CANCELLED if rng.random() < 0.08 else W.CLOSED
            window = created + dt.timedelta(hours=rng.uniform(2, 30))
        reached = STEPS.index(status) if status in STEPS else -1
        at = _moments(created, window, minutes, now)
        point = self.world.site_points.get(site_id) or (None, None)
        lat, lon = (Decimal(str(point[0])), Decimal(str(point[1]))) if point[0] else (None, None)
        done = reached >= STEPS.index(W.COMPLETED)
        code, notes = rng.choice(field_data.RESOLUTIONS) if done else ("", "")
        assigned = reached >= 0
        row = (
            pk, f"W-{pk:06d}", kind, title, "", customer.id, project_id, site_id,
            rng.choices([p for p, _ in PRIORITIES], [w for _, w in PRIORITIES])[0], minutes,
            window, window + dt.timedelta(hours=8), status,
            team if assigned else None, engineer if assigned else None,
            "assign" if assigned else "", at["planned"] if assigned else None,
            at["check_in"] if reached >= 2 else None, lat if reached >= 2 else None,
            lon if reached >= 2 else None, 40 if reached >= 2 and lat else None,
            at["completed"] if done else None, code, notes, True if done else None,
            self.dispatcher, created, max(v for k, v in at.items() if _reached(k, reached)),
            at["dispatched"] if assigned else None, at["accepted"] if reached >= 1 else None,
            at["completed"] if done else None, at["closed"] if reached >= 4 else None,
        )  # fmt: skip
        return row, self._events(pk, row, at, reached, engineer, lat, lon)

    def _events(self, pk, row, at, reached, engineer, lat, lon) -> list[tuple]:
        d = self.dispatcher
        events = [(pk, EventKind.CREATED, True, d, "", {"type": row[2], "priority": row[8],
                   "ticket": None}, None, None, at["created"])]  # fmt: skip
        if reached >= 0:
            data = {"engineer": engineer, "name": "", "via": "assign", "previous": None}
            events.append((pk, EventKind.DISPATCHED, True, d, "", data, None, None,
                           at["dispatched"]))  # fmt: skip
        steps = [
            (1, EventKind.ACCEPTED, {}, "accepted", None),
            (2, EventKind.CHECK_IN, {"distance_m": 40, "flagged": False}, "check_in", (lat, lon)),
            (3, EventKind.CHECK_OUT, {}, "completed", (lat, lon)),
            (3, EventKind.COMPLETED, {"resolution_code": row[22], "first_time_fix": True},
             "completed", None),
            (4, EventKind.CLOSED, {}, "closed", None),
        ]  # fmt: skip
        for level, kind, data, moment, position in steps:
            if reached >= level:
                author = d if kind == EventKind.CLOSED else engineer
                lat_, lon_ = position or (None, None)
                public = kind != EventKind.CHECK_OUT
                events.append((pk, kind, public, author, "", data, lat_, lon_, at[moment]))
        if row[12] == W.CANCELLED:
            events.append((pk, EventKind.CANCELLED, True, d, "客户取消", {}, None, None,
                           at["dispatched"]))  # fmt: skip
        return events


def _reached(moment: str, reached: int) -> bool:
    need = {"created": -1, "dispatched": 0, "planned": 0, "accepted": 1, "check_in": 2,
            "completed": 3, "closed": 4}  # fmt: skip
    return reached >= need[moment]


def _moments(created: dt.datetime, window: dt.datetime, minutes: int, now) -> dict:
    """When each step happened (never after ``now``)."""
    start = max(window, created + dt.timedelta(minutes=30))
    steps = {
        "created": created,
        "dispatched": created + dt.timedelta(minutes=10),
        "planned": start,
        "accepted": created + dt.timedelta(minutes=20),
        "check_in": start + dt.timedelta(minutes=15),
        "completed": start + dt.timedelta(minutes=15 + minutes),
        "closed": start + dt.timedelta(minutes=75 + minutes),
    }
    return {name: min(moment, now) for name, moment in steps.items()}


def write(*, world, count: int, now, days: int, rng, progress: Callable[[str], None]) -> dict:
    """Write ``count`` work orders and their events; return the row counts."""
    orders = Table(WorkOrder, ORDER_COLUMNS)
    events = Table(WorkOrderEvent, EVENT_COLUMNS)
    draw = _Draw(world, rng, now, max(days, 3))
    first = next_id(WorkOrder)
    for start in range(first, first + count, CHUNK):
        rows, timeline = [], []
        for pk in range(start, min(start + CHUNK, first + count)):
            row, evs = draw.order(pk)
            rows.append(row)
            timeline.extend(evs)
        orders.write(rows)
        events.write(timeline)
        progress(f"  work orders {orders.written:,}/{count:,}, events {events.written:,}")
    fix_sequence(WorkOrder)
    return {"work_orders": orders.written, "work_order_events": events.written}
