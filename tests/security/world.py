"""The security matrix's world: the root conftest's cast of actors and, for each side, one
object of every kind a URL can name.

Side ``a`` is the story of customer A: its site, ticket, work order (sent to the partner
outlet, so the outlet's people see it as theirs), route, round… and the people of
customer A and of the outlet. Side ``b`` is customer B's, which neither customer A nor
the outlet may see. Configuration that belongs to no customer (severity levels, point
rules, dispatch rules…) is one object shared by both sides.

Built once per test module (see ``test_matrix.py``); requests that could change it run
inside a savepoint that is rolled back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from frontline.accounts import tokens
from frontline.accounts.models import Membership, Team
from frontline.accounts.roles import OrganizationKind, Role
from frontline.desk.models import Problem, Retrospective, RetrospectiveAction
from frontline.desk.tests import factories as fd
from frontline.dispatch.models import PlanRun
from frontline.field import links, services
from frontline.field.models import (
    DispatchRule,
    GrabOffer,
    PublicLink,
    Survey,
    WorkOrderPhoto,
)
from frontline.field.tests.factories import engineer
from frontline.incentives.models import LedgerEntry, PointRule, Redemption
from frontline.inspections.models import Anomaly, QualityScheme, Sop
from frontline.inspections.states import AnomalySource
from frontline.inspections.tests import factories as fi
from frontline.notifications.models import Notification
from frontline.testing import factories as f

# Text that only the people of each side may ever read (in names and titles of its objects).
MARK_A = "ZZSIDEA"
MARK_B = "ZZSIDEB"
MARKS = {"a": MARK_A, "b": MARK_B}

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6364f8cf000000030101000518d84e0000000049454e44ae426082"
)


@dataclass
class Actors:
    """The same people, organisations and roles as the root conftest's ``cast``."""

    operator: object
    customer_a: object
    customer_b: object
    partner: object
    supplier: object
    people: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


def build_actors() -> Actors:
    op = f.operator()
    org = f.OrganizationFactory
    actors = Actors(
        operator=op,
        customer_a=org(name="华东生物制药", code="cust-a", kind=OrganizationKind.CUSTOMER),
        customer_b=org(name="云谷数据中心", code="cust-b", kind=OrganizationKind.CUSTOMER),
        partner=org(name="苏州服务网点", code="partner-sz", kind=OrganizationKind.PARTNER),
        supplier=org(name="备件供应商", code="supplier-1", kind=OrganizationKind.SUPPLIER),
    )
    who = {
        "admin": (Role.ADMIN, op),
        "manager": (Role.MANAGER, op),
        "dispatcher": (Role.DISPATCHER, op),
        "agent": (Role.AGENT, op),
        "engineer": (Role.ENGINEER, op),
        "analyst": (Role.QUALITY_ANALYST, op),
        "customer_a_admin": (Role.CUSTOMER_ADMIN, actors.customer_a),
        "customer_a_user": (Role.CUSTOMER_USER, actors.customer_a),
        "customer_b_admin": (Role.CUSTOMER_ADMIN, actors.customer_b),
        "partner_admin": (Role.PARTNER_ADMIN, actors.partner),
        "partner_engineer": (Role.PARTNER_ENGINEER, actors.partner),
        "supplier_contact": (Role.SUPPLIER_CONTACT, actors.supplier),
    }
    for name, (role, organization) in who.items():
        actors.people[name] = f.member(role, organization, email=f"{name}@t.example")
    actors.people["outsider"] = f.UserFactory(email="outsider@t.example")
    return actors


class World:
    """``world.obj(kind, side)`` → the object (or path value) a URL parameter names."""

    def __init__(self):
        self.actors = build_actors()
        self.shared: dict[str, object] = {}
        self.sides: dict[str, dict[str, object]] = {"a": {}, "b": {}}
        self._build()

    def obj(self, kind: str, side: str):
        if kind in self.sides[side]:
            return self.sides[side][kind]
        return self.shared[kind]

    # ------------------------------------------------------------------ building

    def _build(self):
        c = self.actors
        skill = f.SkillFactory(code="hvac", name="暖通")
        engineer(user=c.engineer, skills={skill: 3})
        engineer(user=c.partner_engineer, skills={skill: 3})
        self._config(c)
        for side, customer in (("a", c.customer_a), ("b", c.customer_b)):
            self._places(side, customer)
            self._desk(side, customer)
            self._field(side)
            self._inspections(side)
        self._people(c)

    def _config(self, c):
        s = self.shared
        s["asset_model"] = f.AssetModelFactory()
        s["severity_level"] = fd.SeverityLevelFactory(severity="S3")
        s["calendar"] = fd.BusinessCalendarFactory()
        s["dispatch_rule"] = DispatchRule.objects.create(name="规则", mode="assign")
        s["point_rule"] = PointRule.objects.create(name="规则", event="round_completed", points=1)
        s["quality_scheme"] = QualityScheme.objects.create(name="质量方案")
        s["sop"] = Sop.objects.create(code="SOP-1", title="冷站巡检规程")
        s["plan"] = PlanRun.objects.create(day=timezone.localdate() + dt.timedelta(days=1))
        s["verb"] = "approve"
        s["reset_uid"] = "MQ"
        s["reset_token"] = "set-password"
        s["upload_id"] = "6f1c1f0e-0000-4000-8000-000000000000"  # no such upload

    def _places(self, side, customer):
        d = self.sides[side]
        mark = MARKS[side]
        d["site"] = f.SiteFactory(customer=customer, name=f"{mark} 厂区")
        d["project"] = f.ProjectFactory(customer=customer, name=f"{mark} 项目")
        d["project"].sites.add(d["site"])
        d["asset"] = f.AssetFactory(site=d["site"], name=f"{mark} 冷机")
        d["sla_policy"] = fd.SlaPolicyFactory(
            project=d["project"], calendar=self.shared["calendar"]
        )

    def _desk(self, side, customer):
        c, d = self.actors, self.sides[side]
        contact = c.customer_a_user if side == "a" else c.customer_b_admin
        d["ticket"] = fd.ticket_for(
            c,
            customer=customer,
            owner=c.agent,
            contact=contact,
            title=f"{MARKS[side]} 出水温度过高",
        )
        d["attachment"] = fd.AttachmentFactory(ticket=d["ticket"])
        d["problem"] = Problem.objects.create(
            number=f"P-{side}", title="反复高温", created_by=c.agent
        )
        retro = Retrospective.objects.create(
            ticket=d["ticket"], summary="复盘", attribution="设备", author=c.agent
        )
        d["retrospective_action"] = RetrospectiveAction.objects.create(
            retrospective=retro, description="更换阀门", owner=c.agent, due_on=timezone.localdate()
        )

    def _field(self, side):
        c, d = self.actors, self.sides[side]
        wo = services.create_work_order(
            actor=c.dispatcher, title=f"{MARKS[side]} 冷机检修", site=d["site"]
        )
        if side == "a":
            services.send_to_partner(actor=c.dispatcher, work_order=wo, partner=c.partner)
        wo.refresh_from_db()
        d["work_order"] = wo
        photo = WorkOrderPhoto(
            work_order=wo, name="现场.png", content_type="image/png", size=len(PNG)
        )
        photo.file.save("photo", ContentFile(PNG), save=False)
        photo.save()
        d["photo"] = photo
        wo.signature.save("sig.png", ContentFile(PNG), save=True)
        offered = services.create_work_order(
            actor=c.dispatcher, title=f"{side} 滤网更换", site=d["site"]
        )
        # The survey answered for the offered order: the open survey link of ``wo`` stays usable.
        d["survey"] = Survey.objects.create(work_order=offered, engineer=c.engineer, csat=5, nps=9)
        d["offer"] = GrabOffer.objects.create(
            work_order=offered, expires_at=timezone.now() + dt.timedelta(hours=1)
        )
        d["timeline_token"] = links.issue(wo, PublicLink.Purpose.TIMELINE, days=30)
        d["survey_token"] = links.issue(wo, PublicLink.Purpose.SURVEY, days=14)

    def _inspections(self, side):
        c, d = self.actors, self.sides[side]
        route = fi.route(project=d["project"], points=1, name=f"{MARKS[side]} 巡检")
        d["route"] = route
        d["checkpoint"] = route.checkpoints.first()
        d["check_item"] = d["checkpoint"].items.first()
        d["schedule"] = fi.ScheduleFactory(route=route)
        d["round"] = fi.round_for(route, c.engineer)
        now = timezone.now()
        d["anomaly"] = Anomaly.objects.create(
            route=route, project=route.project, customer=route.project.customer,
            checkpoint=d["checkpoint"], round=d["round"], source=AnomalySource.REPORTED,
            raised_at=now, last_seen_at=now, raised_by=c.engineer, description="漏水",
        )  # fmt: skip

    def _people(self, c):
        a, b = self.sides["a"], self.sides["b"]
        for d, user, org in (
            (a, c.customer_a_user, c.customer_a),
            (b, c.customer_b_admin, c.customer_b),
        ):
            d["organization"] = org
            d["user"] = user
            d["membership"] = Membership.objects.get(user=user)
            d["token"], _ = tokens.create_token(actor=user, user=user, name="脚本")
            d["notification"] = Notification.objects.create(
                recipient=user, kind="test", title="通知", dedupe_key=f"matrix-{user.pk}"
            )
        a["team"] = Team.objects.create(organization=c.partner, name="网点一组")
        b["team"] = Team.objects.create(organization=c.operator, name="运维一组")
        a["engineer"], b["engineer"] = c.partner_engineer, c.engineer
        for d, user in ((a, c.partner_engineer), (b, c.engineer)):
            d["redemption"] = Redemption.objects.create(
                user=user, coins=Decimal("1"), rate=Decimal("1"), cash_amount=Decimal("1")
            )
            d["ledger_entry"] = LedgerEntry.objects.create(
                user=user, kind="award", source_type="test", source_id=user.pk,
                occurred_at=timezone.now(),
            )  # fmt: skip
