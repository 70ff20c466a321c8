"""Frontline's side of bench/load.py's fixtures: API tokens, sessions and ids to act on.

Runs in the benchmark's process with the server's environment (same database and
SECRET_KEY, so the sessions made here are valid there). For each role it takes up to
``users`` people from the generated data: customer contacts with their project and some
of their organisation's tickets; agents with open tickets; engineers with the orders
dispatched to them and fresh inspection rounds (scheduled now, assigned to them) whose
checkpoints they record one by one; devices (engineers' phones) with rounds of their own
that they send as one offline-sync batch each.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import string
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS_EACH = 60


def _setup(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _token(user) -> str:
    from frontline.accounts.tokens import create_token

    return create_token(actor=user, user=user, name="load benchmark", scopes=["read", "write"])[1]


def _value(item):
    from frontline.inspections.states import ItemKind

    if item.kind == ItemKind.NUMBER:
        low = float(item.normal_min if item.normal_min is not None else 0)
        high = float(item.normal_max if item.normal_max is not None else low + 10)
        return round((low + high) / 2, 2)
    if item.kind == ItemKind.YES_NO:
        return bool(item.normal_answer)
    if item.kind == ItemKind.CHOICE:
        good = [c for c in item.choices or [] if c not in (item.abnormal_choices or [])]
        return (good or item.choices or ["正常"])[0]
    return "正常"


def _routes(limit: int) -> list[tuple]:
    """(route, [(checkpoint id, readings)]) of generated routes."""
    from django.db.models import Q

    from frontline.demo.generate_rounds import CODE_PATTERN
    from frontline.inspections.models import Route

    out = []
    # Generated routes (GEN-000123 before the prefix became BULK-: not the demo's GEN-LG).
    generated = Q(code__regex=CODE_PATTERN) | Q(code__regex=r"^GEN-\d{6}$")
    qs = Route.objects.filter(generated).prefetch_related("checkpoints__items")
    for route in qs.order_by("pk")[:limit]:
        points = []
        for cp in sorted(route.checkpoints.all(), key=lambda c: (c.position, c.pk)):
            items = [i for i in cp.items.all() if i.is_active]
            points.append((cp.pk, [{"item": i.pk, "value": _value(i)} for i in items]))
        out.append((route, points))
    return out


def _rounds(engineer, routes, count: int, team_of: dict) -> list[dict]:
    from django.utils import timezone

    from frontline.inspections.models import Round

    now = timezone.now()
    chosen = [routes[(engineer.pk * 7 + n) % len(routes)] for n in range(count)]
    made = Round.objects.bulk_create(
        [
            Round(
                route=route,
                project_id=route.project_id,
                customer_id=route.project.customer_id,
                status="scheduled",
                window_start=now - dt.timedelta(minutes=10),
                window_end=now + dt.timedelta(hours=12),
                team_id=team_of.get(engineer.pk),
                assignee=engineer,
                points_planned=len(points),
            )  # fmt: skip
            for route, points in chosen
        ]
    )
    return [{"id": r.pk, "points": points} for r, (_, points) in zip(made, chosen, strict=True)]


def _session(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _csrf() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def prepare_frontline(env: dict, *, users: int) -> dict:
    _setup(env)
    from frontline.accounts.models import Membership
    from frontline.accounts.roles import Role
    from frontline.desk.models import Ticket
    from frontline.field.models import WorkOrder
    from frontline.sites.models import Project

    n = max(4, users)
    members = Membership.objects.select_related("user", "organization").order_by("user_id")
    contacts = list(members.filter(role__in=[Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN])[:n])
    agents = list(members.filter(role=Role.AGENT)[:n])
    open_tickets = list(
        Ticket.objects.filter(status="in_progress")
        .order_by("-id")
        .values_list("id", flat=True)[:2000]
    )
    customers = []
    for m in contacts:
        project = Project.objects.filter(customer=m.organization).order_by("pk").first()
        mine = Ticket.objects.filter(customer=m.organization).order_by("-id")
        customers.append({"token": _token(m.user), "project": project.pk,
                          "tickets": list(mine.values_list("id", flat=True)[:300])})  # fmt: skip
    orders = defaultdict(list)
    dispatched = WorkOrder.objects.filter(status="dispatched").select_related("site")
    for wo in dispatched.order_by("-id")[:20000]:
        lat, lon = wo.site.latitude, wo.site.longitude
        orders[wo.assignee_id].append([wo.pk, float(lat or 31.2), float(lon or 121.5)])
    engineers = [m.user for m in members.filter(role=Role.ENGINEER, user_id__in=list(orders))]
    team_of = {}
    for user in engineers:
        team = user.teams.order_by("pk").first()
        team_of[user.pk] = team.pk if team else None
    routes = _routes(200)
    field, devices = [], []
    for index, user in enumerate(engineers[: 2 * n]):
        entry = {"token": _token(user), "rounds": _rounds(user, routes, ROUNDS_EACH, team_of)}
        if index % 2 == 0:
            field.append({**entry, "orders": orders[user.pk]})
        else:
            devices.append({**entry, "device": f"load-phone-{user.pk}"})
    first_agent = agents[0]
    customer = contacts[0].organization
    project = Project.objects.filter(customer=customer).order_by("pk").first()
    return {
        "customers": customers,
        "agents": [{"token": _token(m.user), "tickets": open_tickets} for m in agents],
        "engineers": field,
        "devices": devices or field,
        "pages": {
            "frontline": {
                "session": _session(first_agent.user),
                "csrf": _csrf(),
                "customer": customer.pk,
                "project": project.pk,
                "tickets": open_tickets[:1000],
            },  # fmt: skip
        },
    }
