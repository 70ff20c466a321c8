"""Inspection history in bulk: routes cloned from the demo's, then rounds, visits, readings.

Enough routes are cloned from the demo routes (same checkpoints and check items, photo
items left out: a generated reading has no file) for one round a day per route over at
most 90 days to hold the readings asked for. Each round is completed (95 %) by an
engineer, visiting every checkpoint in order and answering every item, with about 2 %
abnormal answers; or missed, with no visits. The last round stops at the exact count.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from decimal import Decimal

from frontline.demo.bulk_writer import Table, fix_sequence, next_id
from frontline.inspections.models import (
    CheckItem,
    Checkpoint,
    PointVisit,
    Reading,
    Round,
    Route,
)
from frontline.inspections.states import ItemKind

ROUND_COLUMNS = (
    "id", "route_id", "project_id", "customer_id", "status", "window_start", "window_end",
    "team_id", "assignee_id", "started_at", "finished_at", "points_planned", "points_visited",
    "points_skipped", "quality_computed", "quality_score", "created_at",
)  # fmt: skip
VISIT_COLUMNS = ("id", "round_id", "checkpoint_id", "status", "scanned", "started_at",
                 "recorded_at", "received_at", "by_id")  # fmt: skip
READING_COLUMNS = ("visit_id", "item_id", "number", "answer", "text", "is_abnormal")
ITEM_FIELDS = ("position", "name", "kind", "unit", "normal_min", "normal_max", "choices",
               "abnormal_choices", "normal_answer", "anomaly_when_abnormal", "required")  # fmt: skip
MAX_DAYS = 90
# Cloned routes are coded BULK-000123 (the demo has a GEN-LG: generators).
PREFIX = "BULK-"
CODE_PATTERN = rf"^{PREFIX}\d{{6}}$"


def _templates() -> list[tuple[Route, list[tuple[Checkpoint, list[CheckItem]]]]]:
    out = []
    templates = Route.objects.filter(is_active=True).exclude(code__regex=CODE_PATTERN)
    for route in templates.order_by("pk"):
        points = []
        for cp in route.checkpoints.filter(is_active=True).order_by("position", "pk"):
            items = [i for i in cp.items.filter(is_active=True).order_by("position", "pk")
                     if i.kind != ItemKind.PHOTO]  # fmt: skip
            if items:
                points.append((cp, items))
        if points:
            out.append((route, points))
    return out


def _clone_routes(count: int, templates, now) -> list[tuple]:
    """``count`` new routes; returns (route id, project, customer, [(checkpoint id, [item])])."""
    routes, checkpoints, items = (
        Table(Route, ("id", "project_id", "site_id", "code", "name", "expected_minutes",
                      "anomaly_action", "anomaly_priority", "created_at", "updated_at")),
        Table(Checkpoint, ("id", "route_id", "position", "code", "name", "location",
                           "asset_id", "qr_value")),
        Table(CheckItem, ("id", "checkpoint_id", *ITEM_FIELDS)),
    )  # fmt: skip
    route_id, cp_id, item_id = next_id(Route), next_id(Checkpoint), next_id(CheckItem)
    out, route_rows, cp_rows, item_rows = [], [], [], []
    for n in range(count):
        tpl, points = templates[n % len(templates)]
        route_rows.append((route_id, tpl.project_id, tpl.site_id, f"{PREFIX}{route_id:06d}",
                           f"{tpl.name}（{n // len(templates) + 1}）", tpl.expected_minutes,
                           tpl.anomaly_action, tpl.anomaly_priority, now, now))  # fmt: skip
        cloned = []
        for cp, cp_items in points:
            cp_rows.append((cp_id, route_id, cp.position, cp.code, cp.name, cp.location,
                            cp.asset_id, f"GQ-{cp_id}"))  # fmt: skip
            mine = []
            for item in cp_items:
                item_rows.append((item_id, cp_id, *(getattr(item, f) for f in ITEM_FIELDS)))
                mine.append((item_id, item))
                item_id += 1
            cloned.append((cp_id, mine))
            cp_id += 1
        out.append((route_id, tpl.project_id, tpl.project.customer_id, cloned))
        route_id += 1
    routes.write(route_rows)
    checkpoints.write(cp_rows)
    items.write(item_rows)
    for model in (Route, Checkpoint, CheckItem):
        fix_sequence(model)
    return out


def _answer(item: CheckItem, rng: random.Random) -> tuple:
    """(number, answer, text, is_abnormal) of one reading."""
    abnormal = rng.random() < 0.02
    if item.kind == ItemKind.NUMBER:
        low = float(item.normal_min) if item.normal_min is not None else 0.0
        high = float(item.normal_max) if item.normal_max is not None else low + 100
        value = high * 1.15 if abnormal and item.normal_max is not None else rng.uniform(low, high)
        outside = (item.normal_max is not None and value > high) or value < low
        return Decimal(f"{value:.2f}"), None, "", outside
    if item.kind == ItemKind.YES_NO:
        normal = bool(item.normal_answer)
        return None, (not normal) if abnormal else normal, "", abnormal
    if item.kind == ItemKind.CHOICE:
        choices, bad = item.choices or ["正常"], item.abnormal_choices or []
        good = [c for c in choices if c not in bad] or choices
        text = rng.choice(bad) if abnormal and bad else rng.choice(good)
        return None, None, text, text in bad
    return None, None, "正常", False


def write(*, world, count: int, now, days: int, rng, progress: Callable[[str], None]) -> dict:
    """Write rounds on cloned routes until ``count`` readings; return the row counts."""
    templates = _templates()
    per_round = sum(len(items) for _, points in templates for _, items in points) / len(templates)
    span = max(1, min(days, MAX_DAYS))
    n_routes = max(1, math.ceil(count / (per_round * span * 0.95)))
    routes = _clone_routes(n_routes, templates, now)
    progress(f"  {n_routes:,} routes cloned from {len(templates)} demo routes")
    rounds = Table(Round, ROUND_COLUMNS)
    visits = Table(PointVisit, VISIT_COLUMNS)
    readings = Table(Reading, READING_COLUMNS)
    round_id, visit_id = next_id(Round), next_id(PointVisit)
    day0 = now.replace(hour=1, minute=0, second=0) - dt.timedelta(days=span)
    left = count
    for day in range(span + 1):
        r_rows, v_rows, x_rows = [], [], []
        for index, (route_id, project_id, customer_id, points) in enumerate(routes):
            if left <= 0:
                break
            opens = day0 + dt.timedelta(days=day, minutes=index % 120)
            engineer = world.engineers[(index + day) % len(world.engineers)]
            team = world.engineer_teams.get(engineer)
            if rng.random() < 0.05 or opens + dt.timedelta(hours=2) > now:
                status = "scheduled" if opens + dt.timedelta(hours=2) > now else "missed"
                r_rows.append((round_id, route_id, project_id, customer_id, status, opens,
                               opens + dt.timedelta(hours=2), team, engineer, None, None,
                               len(points), 0, 0, None, None, opens))  # fmt: skip
                round_id += 1
                continue
            at = opens + dt.timedelta(minutes=rng.randint(0, 20))
            started, visited = at, 0
            for cp_id, items in points:
                if left <= 0:
                    break
                at += dt.timedelta(minutes=rng.randint(2, 5))
                v_rows.append((visit_id, round_id, cp_id, "visited", True,
                               at - dt.timedelta(minutes=1), at, at, engineer))  # fmt: skip
                for item_id, item in items[:left]:
                    x_rows.append((visit_id, item_id, *_answer(item, rng)))
                left -= min(len(items), left)
                visit_id += 1
                visited += 1
            score = Decimal(rng.randint(82, 100))
            r_rows.append((round_id, route_id, project_id, customer_id, "completed", opens,
                           opens + dt.timedelta(hours=2), team, engineer, started, at,
                           len(points), visited, 0, score, score, opens))  # fmt: skip
            round_id += 1
        rounds.write(r_rows)
        visits.write(v_rows)
        readings.write(x_rows)
        if day % 10 == 0 or left <= 0:
            progress(
                f"  day {day}/{span}: rounds {rounds.written:,}, readings {readings.written:,}"
            )
        if left <= 0:
            break
    for model in (Round, PointVisit):
        fix_sequence(model)
    return {"routes": n_routes, "rounds": rounds.written, "visits": visits.written,
            "readings": readings.written}  # fmt: skip
