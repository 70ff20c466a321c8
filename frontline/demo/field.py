"""Field-service demo: engineers' profiles, 30 days of work orders played through the
services on a simulated clock, and today's dispatch day (about 120 orders in the queue).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from frontline.accounts.models import EngineerSkill, Organization, Skill, Team, User
from frontline.accounts.roles import Role
from frontline.core.errors import DomainError
from frontline.demo import field_data as text
from frontline.field import links, services
from frontline.field.engineers import effective_skills, qualifies
from frontline.field.models import (
    Certification,
    ChecklistItem,
    ChecklistTemplate,
    DispatchRule,
    EngineerProfile,
    Leave,
    PublicLink,
    Shift,
    WorkOrder,
)
from frontline.field.states import ChecklistResult
from frontline.sites.models import Asset, Site

CITY = {
    "上海": (31.2304, 121.4737),
    "苏州": (31.2989, 120.5853),
    "杭州": (30.2741, 120.1551),
}
TEAM_CITY = ["上海", "上海", "苏州"]
PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@dataclass
class FieldHistory:
    work_orders: int = 0
    queue_today: int = 0
    refused: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "work_orders": self.work_orders,
            "queue_today": self.queue_today,
            "refused_steps": len(self.refused),
        }


class _Clock:
    def __init__(self, at: dt.datetime):
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def _jitter(rng: random.Random, point, km: float) -> tuple[Decimal, Decimal]:
    lat, lon = point
    dlat = rng.uniform(-km, km) / 111.0
    dlon = rng.uniform(-km, km) / 95.0
    q = Decimal("0.000001")
    return Decimal(str(lat + dlat)).quantize(q), Decimal(str(lon + dlon)).quantize(q)


def load_field_history(*, days: int = 30, queue: int = 120, seed: int = 20261101) -> FieldHistory:
    """Configure field service and play ``days`` of history (call inside a transaction)."""
    rng = random.Random(seed)
    history = FieldHistory()
    admin = User.objects.get(email="admin@example.com")
    _configure(rng, admin)
    if days <= 0 and queue <= 0:
        return history
    real_now = timezone.now()
    clock = _Clock(real_now)
    player = _Player(rng=rng, clock=clock, history=history)
    with (
        mock.patch("django.utils.timezone.now", clock.now),
        mock.patch("frontline.notifications.tasks.send_email.delay"),
    ):
        today = timezone.localdate(real_now)
        for back in range(days, 0, -1):
            player.play_day(today - dt.timedelta(days=back))
        clock.at = real_now
        player.today(today, queue)
    return history


# ---------------------------------------------------------------- configuration


def _configure(rng: random.Random, admin: User) -> None:
    Skill.objects.filter(code__in=list(text.CERTIFICATES)).update(requires_certification=True)
    ChecklistTemplate.objects.bulk_create(
        [ChecklistTemplate(type=t, items=items) for t, items in text.CHECKLISTS.items()]
    )
    teams = list(Team.objects.filter(organization__kind="operator").order_by("name"))
    city_of: dict[int, str] = {}
    for index, team in enumerate(sorted(teams, key=lambda t: t.pk)):
        for uid in team.members.values_list("pk", flat=True):
            city_of.setdefault(uid, TEAM_CITY[index % len(TEAM_CITY)])
    engineers = list(
        User.objects.filter(
            membership__role__in=[Role.ENGINEER, Role.PARTNER_ENGINEER]
        ).select_related("membership__organization")
    )
    profiles = []
    for i, user in enumerate(engineers):
        org = user.membership.organization
        city = (
            "苏州"
            if org.code == "partner-suzhou"
            else "杭州"
            if org.code == "partner-hangzhou"
            else city_of.get(user.pk, "杭州" if i % 7 == 0 else "上海")
        )
        lat, lon = _jitter(rng, CITY[city], 12)
        profiles.append(
            EngineerProfile(
                user=user,
                phone=user.phone,
                region=city,
                home_latitude=lat,
                home_longitude=lon,
                workday_start=dt.time(8, 30),
                workday_end=dt.time(17, 30),
                # Data-centre and resident engineers keep a weekend rota.
                works_weekends=i % 3 == 0,
                daily_capacity_minutes=rng.choice([420, 420, 450, 480]),
                offer_radius_km=rng.choice([30, 50, 80]),
            )
        )
    EngineerProfile.objects.bulk_create(profiles)
    _certifications(rng, engineers)
    _rules()
    today = timezone.localdate()
    # Some leave, so that availability means something.
    leave = []
    for user in rng.sample(engineers, k=3):
        start = today + dt.timedelta(days=rng.randint(1, 10))
        leave.append(Leave(user=user, first_day=start, last_day=start + dt.timedelta(days=2),
                           reason=rng.choice(["年假", "培训", "调休"])))  # fmt: skip
    Leave.objects.bulk_create(leave)


def _certifications(rng: random.Random, engineers) -> None:
    rows = []
    today = timezone.localdate()
    by_id = {u.pk: u for u in engineers}
    holders = defaultdict(list)
    held = EngineerSkill.objects.filter(
        user_id__in=list(by_id), skill__code__in=list(text.CERTIFICATES)
    ).order_by("user_id")
    for uid, code in held.values_list("user_id", "skill__code"):
        holders[code].append(by_id[uid])
    skills = {s.code: s for s in Skill.objects.filter(code__in=list(text.CERTIFICATES))}
    for code, users in holders.items():
        for i, user in enumerate(users):
            # One certificate lapsed (the skill is suspended), two expire within a month.
            expires = today + dt.timedelta(
                days=-20 if i == 1 else 25 if i in (2, 3) else rng.randint(200, 900)
            )
            rows.append(Certification(user=user, skill=skills[code], name=text.CERTIFICATES[code],
                                      number=f"T{rng.randint(10**9, 10**10 - 1)}",
                                      issued_on=expires - dt.timedelta(days=3 * 365),
                                      expires_on=expires))  # fmt: skip
    Certification.objects.bulk_create(rows)


def _rules() -> None:
    teams = list(Team.objects.filter(organization__kind="operator").order_by("pk"))
    orgs = {o.code: o for o in Organization.objects.all()}
    skills = {s.code: s for s in Skill.objects.all()}
    for position, (name, cond, target, mode) in enumerate(text.RULES, start=1):
        DispatchRule.objects.create(
            name=name,
            position=position * 10,
            region=cond.get("region", ""),
            priority=cond.get("priority", ""),
            skill=skills.get(cond.get("skill", "")),
            customer=orgs.get(cond.get("customer", "")),
            team=teams[target["team"]] if "team" in target else None,
            partner=orgs.get(target.get("partner", "")),
            mode=mode,
        )


# ---------------------------------------------------------------- the story


class _Player:
    """Plays each day's work orders through the services at plausible times."""

    def __init__(self, *, rng: random.Random, clock: _Clock, history: FieldHistory):
        self.rng, self.clock, self.history = rng, clock, history
        self.dispatchers = list(
            User.objects.filter(membership__role=Role.DISPATCHER).order_by("email")
        )
        self.partner_admins = {
            u.membership.organization_id: u
            for u in User.objects.filter(membership__role=Role.PARTNER_ADMIN).select_related(
                "membership"
            )
        }
        self.profiles = list(
            EngineerProfile.objects.select_related("user__membership__organization")
        )
        self.sites = list(Site.objects.select_related("customer").order_by("pk"))
        self.assets = defaultdict(list)
        for asset in Asset.objects.select_related("model").order_by("pk"):
            if asset.model.category in text.JOBS:
                self.assets[asset.site_id].append(asset)
        self.skills = {s.code: s for s in Skill.objects.all()}
        self.partners = {o.code: o for o in Organization.objects.filter(kind="partner")}
        self.done: dict[int, list[WorkOrder]] = defaultdict(list)  # by site: for revisits
        self.real_today = timezone.localdate()

    # -- helpers

    def at(self, when: dt.datetime) -> None:
        self.clock.at = when

    def step(self, label: str, call, **kwargs):
        try:
            return call(**kwargs)
        except DomainError as exc:
            self.history.refused.append(f"{label}: {exc.message}")
            return None

    def _job(self, site):
        assets = self.assets.get(site.pk) or []
        if not assets:
            return None, None
        asset = self.rng.choice(assets)
        return asset, self.rng.choice(text.JOBS[asset.model.category])

    def _engineers_for(self, site, skill_code, level, day, operator=True):
        people = [
            p for p in self.profiles
            if (p.user.membership.organization.kind == "operator") == operator
        ]  # fmt: skip
        skills = effective_skills([p.user_id for p in people], day)
        needed = {self.skills[skill_code].pk: level}
        fit = [p for p in people if qualifies(skills[p.user_id], needed)]
        local = [p for p in fit if p.region == site.city]
        return [p.user for p in (local or fit)]

    def _window(self, day: dt.date, tz):
        start_h, end_h = self.rng.choice([(9, 12), (13, 17), (9, 17), (10, 12), (14, 16)])
        start = dt.datetime.combine(day, dt.time(start_h, 0), tzinfo=tz)
        end = dt.datetime.combine(day, dt.time(end_h, 30 if end_h == 17 else 0), tzinfo=tz)
        return start, end

    def _new_order(self, day, created_at, *, priority=None):
        site = self.rng.choice(self.sites)
        asset, job = self._job(site)
        if job is None:
            return None, None
        kind, title, skill, level, minutes = job
        tz = timezone.get_current_timezone()
        start, end = self._window(day, tz)
        revisit = None
        if self.done[site.pk] and self.rng.random() < 0.08:
            revisit = self.rng.choice(self.done[site.pk])
        self.at(created_at)
        wo = self.step("create", services.create_work_order,
                       actor=self.rng.choice(self.dispatchers), title=title.format(asset=asset.name),
                       site=site, asset=asset, type=kind,
                       priority=priority or self.rng.choice(["low", "normal", "normal", "normal", "high", "urgent"]),
                       required_skills=[{"skill": skill, "min_level": level}],
                       estimated_minutes=minutes, window_start=start, window_end=end,
                       revisit_of=revisit,
                       description=f"<p>{site.name} 报修：{title.format(asset=asset.name)}。</p>")  # fmt: skip
        return wo, (skill, level)

    # -- one past day

    def play_day(self, day: dt.date) -> None:
        tz = timezone.get_current_timezone()
        weekend = day.weekday() >= 5
        count = self.rng.randint(3, 5) if weekend else self.rng.randint(8, 13)
        for n in range(count):
            created = dt.datetime.combine(day, dt.time(7, 30), tzinfo=tz) + dt.timedelta(
                minutes=7 * n
            )
            wo, need = self._new_order(day, created)
            if wo is None:
                continue
            self.history.work_orders += 1
            self._play(wo, need, day)

    def _assign(self, wo, need, day):
        """Dispatch through the path the site's region would take; returns the engineer."""
        dispatcher = self.rng.choice(self.dispatchers)
        site = wo.site
        self.at(wo.created_at + dt.timedelta(minutes=20))
        partner = self.partners.get("partner-hangzhou") if site.city == "杭州" else None
        outlet = [
            u for u in self._engineers_for(site, *need, day, operator=False)
            if partner is not None and u.membership.organization_id == partner.pk
        ]  # fmt: skip
        if outlet:
            # Hangzhou work the outlet can do goes to the outlet; its admin assigns it on.
            if self.step("partner", services.send_to_partner, actor=dispatcher, work_order=wo,
                         partner=partner):  # fmt: skip
                engineer = self.rng.choice(outlet)
                self.at(wo.created_at + dt.timedelta(minutes=40))
                if self.step("partner-dispatch", services.dispatch, actor=self.partner_admins[partner.pk],
                             work_order=wo, engineer=engineer):  # fmt: skip
                    return engineer
            return None
        if site.city == "苏州" and self.rng.random() < 0.6:
            grab = self.step(
                "offer", services.offer, actor=dispatcher, work_order=wo, expires_in_minutes=60
            )
            if grab is not None:
                claimer = self.rng.choice(list(grab.recipients.all()))
                self.at(wo.created_at + dt.timedelta(minutes=20 + self.rng.randint(2, 25)))
                if self.step("claim", services.claim_offer, actor=claimer, offer_id=grab.pk):
                    return claimer
                return None
            # Nobody eligible that day (a weekend): the dispatcher assigns instead.
        people = self._engineers_for(site, *need, day)
        if not people:
            return None
        engineer = self.rng.choice(people)
        if (
            self.step(
                "dispatch", services.dispatch, actor=dispatcher, work_order=wo, engineer=engineer
            )
            is None
        ):
            return None
        if self.rng.random() < 0.08 and len(people) > 1:
            # The first engineer is tied up elsewhere and gives it back; someone else goes.
            self.at(wo.created_at + dt.timedelta(minutes=35))
            self.step("reject", services.reject, actor=engineer, work_order=wo,
                      reason=self.rng.choice(text.REJECT_REASONS))  # fmt: skip
            engineer = self.rng.choice([u for u in people if u.pk != engineer.pk])
            self.at(wo.created_at + dt.timedelta(minutes=45))
            if (
                self.step(
                    "re-dispatch",
                    services.dispatch,
                    actor=dispatcher,
                    work_order=wo,
                    engineer=engineer,
                )
                is None
            ):
                return None
        self.at(wo.created_at + dt.timedelta(minutes=55))
        self.step("accept", services.accept, actor=engineer, work_order=wo)
        return engineer

    def _play(self, wo, need, day):
        rng = self.rng
        if rng.random() < 0.04:
            self.at(wo.created_at + dt.timedelta(minutes=15))
            self.step("cancel", services.cancel, actor=self.dispatchers[0], work_order=wo,
                      reason="客户来电取消：设备已自行恢复")  # fmt: skip
            return
        engineer = self._assign(wo, need, day)
        if engineer is None:
            # Nobody qualified was free: the customer agreed to report it again later.
            self.at(wo.created_at + dt.timedelta(hours=2))
            self.step("cancel", services.cancel, actor=self.dispatchers[0], work_order=wo,
                      reason="当日无具备资质的工程师，已与客户约定改期重新报修")  # fmt: skip
            return
        wo.refresh_from_db()
        if wo.status == "dispatched":
            self.step("accept", services.accept, actor=engineer, work_order=wo)
        arrive = wo.window_start + dt.timedelta(minutes=rng.randint(-10, 50))
        self.at(arrive - dt.timedelta(minutes=rng.randint(25, 70)))
        self.step("travel", services.start_travel, actor=engineer, work_order=wo)
        self.at(arrive)
        far = rng.random() < 0.05
        lat, lon = _jitter(
            rng, (float(wo.site.latitude), float(wo.site.longitude)), 3.0 if far else 0.1
        )
        if (
            self.step(
                "check-in",
                services.check_in,
                actor=engineer,
                work_order=wo,
                latitude=lat,
                longitude=lon,
            )
            is None
        ):
            return
        at = arrive
        for item in ChecklistItem.objects.filter(work_order=wo):
            at += dt.timedelta(minutes=rng.randint(5, 20))
            self.at(at)
            result = ChecklistResult.OK if rng.random() > 0.05 else ChecklistResult.NOT_APPLICABLE
            self.step("checklist", services.set_checklist_item, actor=engineer, work_order=wo,
                      item_id=item.pk, result=result)  # fmt: skip
        self.at(arrive + dt.timedelta(minutes=wo.estimated_minutes + rng.randint(-20, 40)))
        if rng.random() < 0.4:
            self.step("sign", services.sign, actor=engineer, work_order=wo, signature=PNG,
                      signed_by=rng.choice(["王主管", "李工", "值班长 陈"]))  # fmt: skip
        code, notes = rng.choice(text.RESOLUTIONS)
        first_fix = wo.revisit_of_id is None and rng.random() > 0.1
        done = self.step("complete", services.complete, actor=engineer, work_order=wo,
                         resolution_code=code, resolution_notes=notes,
                         parts_used=rng.choice(text.PARTS), first_time_fix=first_fix)  # fmt: skip
        if done is None:
            return
        self.done[wo.site_id].append(wo)
        closing = dt.datetime.combine(
            day + dt.timedelta(days=1), dt.time(9, 30), tzinfo=wo.window_start.tzinfo
        )
        if day >= self.real_today - dt.timedelta(days=1):
            return  # yesterday's work is closed tomorrow morning
        self.at(closing)
        admin = self.partner_admins.get(wo.partner_id) if wo.partner_id else self.dispatchers[0]
        if self.step("close", services.close, actor=admin, work_order=wo) and rng.random() < 0.6:
            token = links.issue(wo, PublicLink.Purpose.SURVEY, days=14)
            self.at(closing + dt.timedelta(hours=rng.randint(1, 30)))
            csat = rng.choice([5, 5, 5, 4, 4, 3, 2])
            nps = min(10, max(0, csat * 2 + rng.randint(-2, 0)))
            self.step("survey", services.submit_survey, token=token, csat=csat, nps=nps,
                      comment=rng.choice(text.SURVEY_COMMENTS))  # fmt: skip

    # -- today: a real dispatch day

    def today(self, day: dt.date, queue: int) -> None:
        rng = self.rng
        tz = timezone.get_current_timezone()
        now = self.clock.at
        if day.weekday() >= 5:
            # Weekend rota: most engineers are on duty today.
            Shift.objects.bulk_create(
                [Shift(user=p.user, date=day, start=dt.time(8, 30), end=dt.time(17, 30))
                 for p in self.profiles if rng.random() < 0.7 and not p.works_weekends]
            )  # fmt: skip
        # Where everyone is this morning (their phones pinged on the way in).
        for p in self.profiles:
            if rng.random() < 0.8:
                lat, lon = _jitter(rng, (float(p.home_latitude), float(p.home_longitude)), 4)
                EngineerProfile.objects.filter(pk=p.pk).update(
                    last_latitude=lat, last_longitude=lon,
                    last_position_at=now - dt.timedelta(minutes=rng.randint(2, 90)),
                )  # fmt: skip
        self.profiles = list(
            EngineerProfile.objects.select_related("user__membership__organization")
        )
        morning = dt.datetime.combine(day, dt.time(7, 0), tzinfo=tz)
        start = min(morning, now - dt.timedelta(hours=2))
        # Some work is already out: dispatched, accepted, one on the way.
        for n in range(12):
            wo, need = self._new_order(day, start + dt.timedelta(minutes=n))
            if wo is None:
                continue
            people = self._engineers_for(wo.site, *need, day)
            if not people:
                continue
            engineer = people[n % len(people)]
            self.at(start + dt.timedelta(minutes=20 + n))
            planned = wo.window_start + dt.timedelta(minutes=rng.choice([0, 30, 60]))
            if self.step("dispatch", services.dispatch, actor=self.dispatchers[0], work_order=wo,
                         engineer=engineer, planned_start=planned, route_position=1):  # fmt: skip
                self.history.work_orders += 1
                if n % 3 == 0:
                    self.step("accept", services.accept, actor=engineer, work_order=wo)
        # The queue the dispatcher (or the planner) has to place today.
        for n in range(queue):
            created = start + dt.timedelta(minutes=30 + n)
            wo, _need = self._new_order(day, min(created, now))
            if wo is not None:
                self.history.work_orders += 1
                self.history.queue_today += 1
        # Three open offers for the grab team in Suzhou.
        self.at(now - dt.timedelta(minutes=5))
        suzhou = [w for w in WorkOrder.objects.filter(status="new", site__city="苏州")[:3]]
        for wo in suzhou:
            self.step("offer", services.offer, actor=self.dispatchers[0], work_order=wo,
                      expires_in_minutes=240, radius_km=80)  # fmt: skip
