"""Load the demo company into an empty database.

The domain services are the way to change state in the product; the demo loader is
a bulk fixture and creates rows directly for speed, keeping the same invariants the
services keep: one operator, every membership's role fits its organisation's kind,
a project's sites belong to the project's customer, an asset's parent stands on the
same site. ``check_invariants`` proves it after loading (and the tests call it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import transaction
from django.db.models import F

from frontline.accounts.models import EngineerSkill, Membership, Organization, Skill, Team, User
from frontline.accounts.roles import OrganizationKind, role_fits_kind
from frontline.demo import data
from frontline.desk.models import Ticket
from frontline.field.models import WorkOrder
from frontline.inspections.models import Anomaly, Round, Route
from frontline.notifications.models import EmailStatus, OutboundEmail
from frontline.sites.models import Asset, AssetModel, Project, Site


class DemoDataExists(Exception):
    """The database already holds organisations; the demo loads only into an empty one."""


@dataclass
class Loaded:
    organizations: dict[str, Organization] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)
    engineers: list[User] = field(default_factory=list)
    desk: object = None  # frontline.demo.desk.History when the desk history was played
    field: object = None  # frontline.demo.field.FieldHistory
    inspections: object = None  # frontline.demo.inspections.InspectionHistory

    def counts(self) -> dict[str, int]:
        return {
            "organizations": Organization.objects.count(),
            "users": User.objects.count(),
            "teams": Team.objects.count(),
            "sites": Site.objects.count(),
            "projects": Project.objects.count(),
            "asset_models": AssetModel.objects.count(),
            "assets": Asset.objects.count(),
            "tickets": Ticket.objects.count(),
            "work_orders": WorkOrder.objects.count(),
            "routes": Route.objects.count(),
            "rounds": Round.objects.count(),
            "anomalies": Anomaly.objects.count(),
        }


def load(
    *, reset: bool = False, desk_days: int = 60, field_days: int = 30, inspection_days: int = 60
) -> Loaded:
    """Create the demo company in one transaction; with ``reset`` wipe the database first.

    ``desk_days`` days of service-desk history are then played through the desk's services
    (``frontline.demo.desk``); 0 leaves the desk empty and unconfigured. ``field_days`` days
    of work orders are played the same way (``frontline.demo.field``), then today's queue
    of about 120 orders is laid out for the dispatcher; 0 loads field configuration only.
    The 25 inspection routes always load; ``inspection_days`` days of rounds are written
    behind them (``frontline.demo.inspections``), and incentive rules pay for that history.
    """
    with transaction.atomic():
        if reset:
            # flush empties every table of every app, so the reset keeps working as apps are added.
            call_command("flush", interactive=False, verbosity=0)
        elif Organization.objects.exists():
            raise DemoDataExists(
                f"The database already holds {Organization.objects.count()} organisations. "
                "Run `frontline demo --reset` to wipe it and load the demo company."
            )
        loaded = Loaded()
        _organizations(loaded)
        _people(loaded)
        _teams_and_skills(loaded)
        _sites_and_projects(loaded)
        _assets(loaded)
        check_invariants()
        if desk_days > 0:
            from frontline.demo.desk import load_desk_history

            loaded.desk = load_desk_history(days=desk_days)
        from frontline.demo.field import load_field_history

        loaded.field = load_field_history(days=field_days, queue=120 if field_days > 0 else 0)
        from frontline.demo.incentives import load as load_incentives
        from frontline.demo.inspections import load_inspections

        # Offers of rounds and follow-ups notify people: into the inbox, never by email.
        with mock.patch("frontline.notifications.tasks.send_email.delay"):
            loaded.inspections = load_inspections(days=inspection_days)
            load_incentives()
        OutboundEmail.objects.filter(status=EmailStatus.PENDING).update(
            status=EmailStatus.SENT, sent_at=F("created_at"), last_error="demo: not sent"
        )
    return loaded


# ---------------------------------------------------------------- organisations and people


def _organizations(loaded: Loaded) -> None:
    rows = [(data.OPERATOR, OrganizationKind.OPERATOR)]
    rows += [(c, OrganizationKind.CUSTOMER) for c in data.CUSTOMERS]
    rows += [(p, OrganizationKind.PARTNER) for p in data.PARTNERS]
    rows += [(s, OrganizationKind.SUPPLIER) for s in data.SUPPLIERS]
    orgs = Organization.objects.bulk_create(
        [Organization(kind=kind, **fields) for fields, kind in rows]
    )
    loaded.organizations = {org.code: org for org in orgs}


def _engineer_rows() -> list[tuple[str, str]]:
    rng = random.Random(20260101)
    names: list[str] = []
    while len(names) < data.ENGINEER_COUNT:
        name = rng.choice(data.SURNAMES) + rng.choice(data.GIVEN_NAMES)
        if name not in names:
            names.append(name)
    rows = [("engineer@example.com", names[0])]
    rows += [(f"engineer{i:02d}@example.com", name) for i, name in enumerate(names[1:], start=2)]
    return rows


def _people(loaded: Loaded) -> None:
    # Argon2 is slow by design: hash the shared demo password once and reuse the encoded value.
    encoded = make_password(data.PASSWORD)
    operator = loaded.organizations[data.OPERATOR["code"]]
    people: list[tuple[str, str, str, Organization]] = [
        (email, name, role, operator) for email, name, role in data.STAFF
    ]
    people += [(email, name, "engineer", operator) for email, name in _engineer_rows()]
    for groups in (data.CUSTOMER_CONTACTS, data.PARTNER_PEOPLE, data.SUPPLIER_PEOPLE):
        for code, rows in groups.items():
            people += [
                (email, name, role, loaded.organizations[code]) for email, name, role in rows
            ]

    users = []
    for index, (email, name, _role, _org) in enumerate(people):
        is_admin = email == "admin@example.com"
        users.append(
            User(
                email=email,
                display_name=name,
                password=encoded,
                phone=f"139{index:08d}",
                is_staff=is_admin,
                is_superuser=is_admin,
            )
        )
    users = User.objects.bulk_create(users)
    memberships = []
    for user, (_email, _name, role, org) in zip(users, people, strict=True):
        if not role_fits_kind(role, org.kind):
            raise ValueError(f"demo data: role {role} does not fit a {org.kind} organisation")
        memberships.append(Membership(user=user, organization=org, role=role))
    Membership.objects.bulk_create(memberships)
    loaded.users = {u.email: u for u in users}
    loaded.engineers = [u for u, row in zip(users, people, strict=True) if row[2] == "engineer"]


def _teams_and_skills(loaded: Loaded) -> None:
    operator = loaded.organizations[data.OPERATOR["code"]]
    engineers = loaded.engineers
    teams = []
    for index, (name, description, mode, _city) in enumerate(data.TEAMS):
        members = engineers[index :: len(data.TEAMS)]
        team = Team.objects.create(
            organization=operator,
            name=name,
            description=description,
            dispatch_mode=mode,
            lead=members[0],
        )
        team.members.set(members)
        teams.append(team)
    # Dispatchers sit in the two assign-mode teams so their queues have a human.
    teams[0].members.add(loaded.users["dispatcher@example.com"])
    teams[1].members.add(loaded.users["dispatcher2@example.com"])
    for code in ("partner-suzhou", "partner-hangzhou"):
        org = loaded.organizations[code]
        team = Team.objects.create(
            organization=org,
            name=f"{org.name}现场组",
            dispatch_mode="assign",
            description="合作网点的现场工程师",
        )
        team.members.set(
            Membership.objects.filter(organization=org).values_list("user_id", flat=True)
        )

    skills = Skill.objects.bulk_create(
        [
            Skill(code=code, name=name, description=description)
            for code, name, description in data.SKILLS
        ]
    )
    by_code = {s.code: s for s in skills}
    # Team speciality first, then a couple of neighbouring skills at lower levels.
    speciality = [
        ["hvac", "chiller", "boiler", "bms", "cleanroom"],
        ["hv-electrical", "lv-electrical", "ups", "generator", "bms"],
        ["hvac", "crac", "lv-electrical", "ups", "chiller"],
    ]
    rng = random.Random(42)
    rows = []
    for index, engineer in enumerate(engineers):
        pool = speciality[index % len(speciality)]
        chosen = [pool[0], *rng.sample(pool[1:], k=rng.randint(1, 3))]
        for rank, code in enumerate(chosen):
            level = max(1, min(5, rng.randint(3, 5) - rank))
            rows.append(EngineerSkill(user=engineer, skill=by_code[code], level=level))
    partner_engineers = User.objects.filter(membership__role="partner_engineer")
    for engineer in partner_engineers:
        rows.append(EngineerSkill(user=engineer, skill=by_code["hvac"], level=rng.randint(2, 4)))
        rows.append(EngineerSkill(user=engineer, skill=by_code["crac"], level=rng.randint(1, 3)))
    EngineerSkill.objects.bulk_create(rows)


# ---------------------------------------------------------------- sites, projects, assets


def _sites_and_projects(loaded: Loaded) -> None:
    sites = []
    keys = []
    for customer_code, key, name, address, city, lat, lon, profile in data.SITES:
        keys.append(key)
        sites.append(
            Site(
                customer=loaded.organizations[customer_code],
                name=name,
                address=address,
                city=city,
                latitude=Decimal(lat),
                longitude=Decimal(lon),
                notes=data.SITE_NOTES[profile],
            )
        )
    loaded.sites = dict(zip(keys, Site.objects.bulk_create(sites), strict=True))
    for customer_code, code, name, description, site_keys, start, end in data.PROJECTS:
        customer = loaded.organizations[customer_code]
        project = Project.objects.create(
            customer=customer,
            code=code,
            name=name,
            description=description,
            contract_start=start,
            contract_end=end,
        )
        members = [loaded.sites[k] for k in site_keys]
        if any(site.customer_id != customer.pk for site in members):
            raise ValueError(f"demo data: project {code} lists a site of another customer")
        project.sites.set(members)


def _serial(rng: random.Random, manufacturer: str) -> str:
    prefix = "".join(ch for ch in manufacturer.upper() if "A" <= ch <= "Z")[:3] or "CN"
    return f"{prefix}{rng.randint(2015, 2025)}{rng.randint(0, 999999):06d}"


def _assets(loaded: Loaded) -> None:
    models = AssetModel.objects.bulk_create(
        [
            AssetModel(manufacturer=m, model=mo, category=c, description=d)
            for m, mo, c, d in data.ASSET_MODELS.values()
        ]
    )
    model_by_key = dict(zip(data.ASSET_MODELS, models, strict=True))
    overrides = {(site, index): status for site, index, status in data.ASSET_STATUS_OVERRIDES}
    rng = random.Random(7)
    serials: set[tuple[int, str]] = set()

    def make(
        site: Site, model_key: str, name: str, location: str, parent: Asset | None = None
    ) -> Asset:
        model = model_by_key[model_key]
        serial = _serial(rng, model.manufacturer)
        while (model.pk, serial) in serials:
            serial = _serial(rng, model.manufacturer)
        serials.add((model.pk, serial))
        installed = data.DEMO_EPOCH.replace(year=data.DEMO_EPOCH.year + rng.randint(0, 7))
        return Asset(
            site=site,
            model=model,
            name=name,
            serial=serial,
            location=location,
            installed_on=installed,
            parent=parent,
        )

    for _customer, key, *_rest, profile in data.SITES:
        site = loaded.sites[key]
        parents: list[tuple[Asset, list]] = []
        for model_key, name, location, count, children in data.PROFILES[profile]:
            for n in range(1, count + 1):
                parents.append((make(site, model_key, f"{n}# {name}", location), children))
        Asset.objects.bulk_create([asset for asset, _ in parents])
        kids = []
        for parent, children in parents:
            for model_key, name, count in children:
                for n in range(1, count + 1):
                    label = f"{parent.name} {n}# {name}" if count > 1 else f"{parent.name} {name}"
                    kids.append(make(site, model_key, label, parent.location, parent=parent))
        Asset.objects.bulk_create(kids)
        ordered = [asset for asset, _ in parents] + kids
        for index, asset in enumerate(ordered):
            status = overrides.get((key, index))
            if status:
                Asset.objects.filter(pk=asset.pk).update(status=status)


# ---------------------------------------------------------------- invariants


def check_invariants() -> None:
    """Raise ValueError when the loaded data breaks a rule the services keep."""
    if Organization.objects.filter(kind=OrganizationKind.OPERATOR).count() != 1:
        raise ValueError("demo data: there must be exactly one operator")
    for m in Membership.objects.select_related("organization"):
        if not role_fits_kind(m.role, m.organization.kind):
            raise ValueError(f"demo data: {m} has a role that does not fit its organisation")
    for project in Project.objects.prefetch_related("sites"):
        if any(site.customer_id != project.customer_id for site in project.sites.all()):
            raise ValueError(f"demo data: project {project.code} has a site of another customer")
    if Asset.objects.filter(parent__isnull=False).exclude(parent__site=F("site")).exists():
        raise ValueError("demo data: an asset's parent stands on another site")
