"""``frontline generate``: fill a database with realistic, consistent data at scale.

The world is the demo company (its organisations, people, teams, sites, assets,
projects, SLA policies and inspection routes, loaded through ``frontline.demo.loader``),
grown by ``customers`` extra customer organisations (each with contacts, a site, a
project and SLA policies) and ``agents`` extra service-desk agents. The volume is then
written in bulk (PostgreSQL ``COPY``, multi-row INSERTs on SQLite) by
``generate_desk`` (tickets, their events and SLA fields as ``desk.sla.compute`` decides
them), ``generate_field`` (work orders with their timelines) and ``generate_rounds``
(routes, checkpoints, items, rounds, visits and readings).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from unittest import mock

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from frontline.accounts.models import Membership, Organization, Team, User
from frontline.accounts.roles import OrganizationKind, Role
from frontline.demo import data
from frontline.desk.calendars import Calendar
from frontline.desk.models import SlaPolicy
from frontline.desk.sla import PolicyTargets
from frontline.sites.models import Project, Site


class NotEmpty(Exception):
    """The database already holds data and ``append`` was not asked for."""


@dataclass
class Customer:
    id: int
    code: str
    contacts: list[int]
    projects: list[tuple[int, list[int]]]  # (project id, its site ids)


@dataclass
class World:
    """The ids the bulk writers draw from, read once."""

    operator: int
    customers: list[Customer]
    agents: list[int]
    teams: list[int]
    engineers: list[int]
    engineer_teams: dict[int, int]
    # (project id, severity) -> (policy id, targets, calendar)
    policies: dict[tuple[int, str], tuple[int, PolicyTargets, Calendar]] = field(
        default_factory=dict
    )
    site_points: dict[int, tuple] = field(default_factory=dict)


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def generate(
    *,
    tickets: int = 0,
    work_orders: int = 0,
    readings: int = 0,
    customers: int = 0,
    agents: int = 20,
    days: int = 365,
    seed: int = 20261122,
    append: bool = False,
    progress: Callable[[str], None] = lambda line: None,
) -> Report:
    """Build (or reuse, with ``append``) the world, then write the volume asked for."""
    from frontline.demo import generate_desk, generate_field, generate_rounds

    if Organization.objects.exists() and not append:
        raise NotEmpty(
            f"The database already holds {Organization.objects.count()} organisations; "
            "use --append to add to it."
        )
    rng = random.Random(seed)
    report = Report()
    now = timezone.now().replace(microsecond=0)
    started = time.perf_counter()
    with transaction.atomic():
        world = build_world(customers=customers, agents=agents, rng=rng)
    report.seconds["world"] = round(time.perf_counter() - started, 1)
    progress(f"world: {len(world.customers)} customers, {len(world.agents)} agents "
             f"({report.seconds['world']} s)")  # fmt: skip
    steps = [
        ("tickets", tickets, generate_desk.write),
        ("work_orders", work_orders, generate_field.write),
        ("readings", readings, generate_rounds.write),
    ]
    for name, count, write in steps:
        if count <= 0:
            continue
        started = time.perf_counter()
        with transaction.atomic():
            written = write(world=world, count=count, now=now, days=days, rng=rng,
                            progress=progress)  # fmt: skip
        report.counts.update(written)
        report.seconds[name] = round(time.perf_counter() - started, 1)
        progress(f"{name}: {written} in {report.seconds[name]} s")
    if connection.vendor == "postgresql":
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        report.seconds["analyze"] = round(time.perf_counter() - started, 1)
    return report


# ---------------------------------------------------------------- the world


def build_world(*, customers: int, agents: int, rng: random.Random) -> World:
    """The demo company (loaded when the database is empty), grown to the size asked."""
    if not Organization.objects.exists():
        from frontline.demo import loader
        from frontline.demo.desk import load_desk_history

        with mock.patch("frontline.notifications.tasks.send_email.delay"):
            loader.load(desk_days=0, field_days=0, inspection_days=0)
            load_desk_history(days=0)  # the desk's configuration: calendars, SLA policies
    operator = Organization.objects.get(kind=OrganizationKind.OPERATOR)
    encoded = make_password(None)  # generated people sign in with tokens, not passwords
    _grow_customers(customers, encoded, rng)
    _grow_agents(operator, agents, encoded, rng)
    return read_world(operator)


def _person_name(rng: random.Random) -> str:
    return rng.choice(data.SURNAMES) + rng.choice(data.GIVEN_NAMES)


def _add_people(org, role: str, emails: list[str], encoded: str, rng) -> list[User]:
    users = User.objects.bulk_create(
        [User(email=e, display_name=_person_name(rng), password=encoded) for e in emails]
    )
    Membership.objects.bulk_create([Membership(user=u, organization=org, role=role) for u in users])
    return users


def _grow_customers(count: int, encoded: str, rng: random.Random) -> None:
    existing = Organization.objects.filter(kind=OrganizationKind.CUSTOMER).count()
    template = Project.objects.order_by("code").first()
    policies = list(SlaPolicy.objects.filter(project=template)) if template else []
    cities = sorted({site[4] for site in data.SITES}) or ["上海"]
    for index in range(existing, existing + count):
        code = f"gen-{index:05d}"
        city = cities[index % len(cities)]
        org = Organization.objects.create(
            code=code,
            name=f"{city}{rng.choice(INDUSTRY)}{index:05d}有限公司",
            kind=OrganizationKind.CUSTOMER,
        )
        emails = [f"contact{n}@{code}.example.com" for n in range(3)]
        _add_people(org, Role.CUSTOMER_USER, emails, encoded, rng)
        site = Site.objects.create(customer=org, name=f"{city}厂区 {index}", city=city)
        project = Project.objects.create(customer=org, code=f"GEN-{index:05d}", name="设施运维合同")
        project.sites.add(site)
        SlaPolicy.objects.bulk_create(
            [
                SlaPolicy(
                    project=project,
                    severity=p.severity,
                    calendar_id=p.calendar_id,
                    first_response_minutes=p.first_response_minutes,
                    resolution_minutes=p.resolution_minutes,
                    warning_percent=p.warning_percent,
                )
                for p in policies
            ]
        )


INDUSTRY = ["精密制造", "生物科技", "数据服务", "食品", "物流", "新材料", "医疗器械"]


def _grow_agents(operator, count: int, encoded: str, rng: random.Random) -> None:
    have = User.objects.filter(email__startswith="gen-agent-").count()
    emails = [f"gen-agent-{i:03d}@example.com" for i in range(have, count)]
    if not emails:
        return
    users = _add_people(operator, Role.AGENT, emails, encoded, rng)
    teams = list(Team.objects.filter(organization=operator).order_by("pk"))
    for index, user in enumerate(users):
        teams[index % len(teams)].members.add(user)


def read_world(operator) -> World:
    members = Membership.objects.select_related("organization").order_by("user_id")
    contacts: dict[int, list[int]] = defaultdict(list)
    by_role: dict[str, list[int]] = defaultdict(list)
    for m in members:
        by_role[m.role].append(m.user_id)
        if m.role in {Role.CUSTOMER_ADMIN, Role.CUSTOMER_USER}:
            contacts[m.organization_id].append(m.user_id)
    sites_of: dict[int, list[int]] = defaultdict(list)
    for project_id, site_id in Project.sites.through.objects.values_list("project_id", "site_id"):
        sites_of[project_id].append(site_id)
    projects: dict[int, list[tuple[int, list[int]]]] = defaultdict(list)
    for p in Project.objects.order_by("pk"):
        projects[p.customer_id].append((p.pk, sorted(sites_of[p.pk])))
    customers = [
        Customer(id=o.pk, code=o.code, contacts=contacts[o.pk], projects=projects[o.pk])
        for o in Organization.objects.filter(kind=OrganizationKind.CUSTOMER).order_by("pk")
        if contacts[o.pk] and projects[o.pk]
    ]
    teams = list(Team.objects.filter(organization=operator).order_by("pk"))
    engineer_teams = {}
    for team in teams:
        for user_id in team.members.values_list("pk", flat=True):
            engineer_teams.setdefault(user_id, team.pk)
    world = World(
        operator=operator.pk,
        customers=customers,
        agents=by_role[Role.AGENT],
        teams=[t.pk for t in teams],
        engineers=by_role[Role.ENGINEER],
        engineer_teams=engineer_teams,
    )
    calendars: dict[int, Calendar] = {}
    for policy in SlaPolicy.objects.select_related("calendar").prefetch_related(
        "calendar__periods", "calendar__closed_days"
    ):
        if policy.calendar_id not in calendars:
            calendars[policy.calendar_id] = Calendar.from_model(policy.calendar)
        world.policies[(policy.project_id, policy.severity)] = (
            policy.pk,
            PolicyTargets.from_policy(policy),
            calendars[policy.calendar_id],
        )
    for site in Site.objects.all():
        world.site_points[site.pk] = (site.latitude, site.longitude)
    return world
