"""The demo's service-desk history: 60 days of tickets played through the real services.

A simulated clock replaces ``django.utils.timezone.now`` while the history is played,
so every ticket, event, SLA deadline, warning and breach carries a plausible time in
the past, and every state change goes through the same service functions as the
pages and the API (hand-offs, fire calls, briefs, retrospectives, problems). The SLA
sweep runs every simulated hour. Emails queued on the way are marked as sent: the
demo must not mail anyone when the worker starts.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from unittest import mock

from django.db.models import F
from django.utils import timezone

from frontline.accounts.models import Team, User
from frontline.accounts.roles import Role
from frontline.core.errors import DomainError
from frontline.demo import desk_data as text
from frontline.desk import fire, problems, retrospectives, sla_config, tickets
from frontline.desk.models import Category, Ticket
from frontline.desk.models.problems import ProblemStatus
from frontline.desk.states import Channel, Severity, TicketStatus
from frontline.desk.sweep import sweep
from frontline.notifications.models import EmailStatus, Notification, OutboundEmail
from frontline.sites.models import Asset, Project

TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has no DST
SEVERITIES = [Severity.S1, Severity.S2, Severity.S3, Severity.S4]
# Targets in business minutes: (first response, resolution) per severity.
TARGETS = {"S1": (15, 240), "S2": (30, 480), "S3": (120, 1440), "S4": (480, 4320)}
# How long work takes (minutes): resolution after the first response, by severity.
WORK = {"S1": (60, 200), "S2": (120, 420), "S3": (240, 1800), "S4": (600, 4000)}


@dataclass
class History:
    """What the played history produced (and any step the services refused)."""

    tickets: list[Ticket] = field(default_factory=list)
    themes: dict[str, list[Ticket]] = field(default_factory=lambda: defaultdict(list))
    refused: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"tickets": len(self.tickets), "refused_steps": len(self.refused)}


class Clock:
    def __init__(self, start: dt.datetime):
        self.at = start

    def now(self) -> dt.datetime:
        return self.at


class Cast:
    """The people the story needs, looked up once."""

    def __init__(self):
        users = User.objects.select_related("membership__organization").filter(is_active=True)
        by_role = defaultdict(list)
        self.contacts = defaultdict(list)
        for user in users:
            role = user.role
            by_role[role].append(user)
            if role in {Role.CUSTOMER_ADMIN, Role.CUSTOMER_USER}:
                self.contacts[user.organization.code].append(user)
        self.admin = User.objects.get(email="admin@example.com")
        self.manager = User.objects.get(email="manager@example.com")
        self.agents = sorted(by_role[Role.AGENT], key=lambda u: u.email)
        self.dispatchers = sorted(by_role[Role.DISPATCHER], key=lambda u: u.email)
        self.engineers = sorted(by_role[Role.ENGINEER], key=lambda u: u.email)
        self.engineer = User.objects.get(email="engineer@example.com")


def load_desk_history(*, days: int = 60, seed: int = 20260922) -> History:
    """Configure the desk and play ``days`` of history up to now (call inside a transaction)."""
    cast = Cast()
    _configure(cast)
    history = History()
    if days <= 0:
        return history
    real_now = timezone.now()
    clock = Clock(real_now - dt.timedelta(days=days))
    player = _Player(cast=cast, rng=random.Random(seed), clock=clock, history=history, end=real_now)
    with (
        mock.patch("django.utils.timezone.now", clock.now),
        mock.patch("frontline.notifications.tasks.send_email.delay"),
    ):
        player.plan(days)
        player.plan_present()
        player.play()
        clock.at = real_now
        player.stand_down_old_fires()
        sweep(now=real_now)
        _problems(cast, history)
    _quiet_inbox(real_now)
    return history


# ---------------------------------------------------------------- configuration


def _configure(cast: Cast) -> None:
    """Fire levels, two business calendars, SLA policies for every project, categories."""
    fire.ensure_default_levels()
    office = sla_config.create_calendar(
        actor=cast.admin,
        name="工作日 8:30–17:30（含法定节假日）",
        periods=[{"weekday": d, "start": dt.time(8, 30), "end": dt.time(17, 30)} for d in range(5)],
    )
    round_clock = sla_config.create_calendar(actor=cast.admin, name="7×24 值守", is_24x7=True)
    for project in Project.objects.order_by("code"):
        # Data centres and the resident pharma contract are 7×24; maintenance contracts office hours.
        calendar = round_clock if project.code in {"HD-2026-01", "YG-2026-01"} else office
        for severity, (first, resolution) in TARGETS.items():
            sla_config.create_policy(
                actor=cast.admin,
                project=project,
                severity=severity,
                calendar=calendar,
                first_response_minutes=first,
                resolution_minutes=resolution,
                raise_tier_on_breach="l2" if severity in {"S1", "S2"} else "",
            )
    Category.objects.bulk_create(
        [
            Category(code=code, name=name)
            for code, name in [
                ("fault", "设备故障"),
                ("alarm", "报警处理"),
                ("request", "服务请求"),
                ("consulting", "咨询"),
            ]
        ],
        ignore_conflicts=True,
    )


# ---------------------------------------------------------------- the story


class _Player:
    """Plans each ticket's story as timed steps and plays them in time order."""

    def __init__(self, *, cast: Cast, rng: random.Random, clock: Clock, history: History, end):
        self.cast, self.rng, self.clock, self.history, self.end = cast, rng, clock, history, end
        self.queue: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.projects = defaultdict(list)
        for project in Project.objects.prefetch_related("sites").order_by("code"):
            self.projects[project.customer.code].append(project)
        self.assets = defaultdict(list)
        for asset in Asset.objects.select_related("model").order_by("pk"):
            self.assets[asset.site_id].append(asset)
        self.categories = {c.code: c for c in Category.objects.all()}
        self.teams = list(Team.objects.filter(organization__kind="operator").order_by("name"))

    # -- scheduling

    def at(self, when: dt.datetime, step: Callable[[], None]) -> None:
        if when < self.end:  # what would happen after "now" has not happened yet
            heapq.heappush(self.queue, (when, next(self.seq), step))

    def plan(self, days: int) -> None:
        start = self.clock.at.astimezone(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
        for day in range(days + 1):
            for _ in range(self.rng.choice([1, 2, 2, 3, 3, 4])):
                minute = self.rng.randint(7 * 60 + 30, 21 * 60)
                when = start + dt.timedelta(days=day, minutes=minute)
                self.at(when, self._new_ticket_step())

    def plan_present(self) -> None:
        """What is going on right now: an open S1 fire, a hand-off waiting, fresh requests."""
        now = self.end
        self.at(now - dt.timedelta(minutes=50), self._live_fire)
        self.at(now - dt.timedelta(hours=3), self._waiting_hand_off)
        for minutes, customer in [(25, "huadong-bio"), (6, "suxi-precision")]:
            theme, _, title, description = text.REQUESTS[customer][-3]
            self.at(
                now - dt.timedelta(minutes=minutes),
                lambda c=customer, t=title, d=description: self._fresh_request(c, t, d),
            )

    def _live_fire(self) -> None:
        contact = self.cast.contacts["yungu-idc"][0]
        agent = self.cast.agents[0]
        project = self.projects["yungu-idc"][0]
        ticket = tickets.create_ticket(
            actor=agent,
            customer=contact.organization,
            contact=contact,
            channel=Channel.PHONE,
            title="临港一号 3F-A 冷通道温度持续升高",
            description="<p>3F-A 冷通道温度 31℃ 且仍在上升，两台精密空调高压报警，客户核心业务机柜受影响。</p>",
            project=project,
            site=project.sites.order_by("pk").first(),
            severity=Severity.S1,
        )
        self.history.tickets.append(ticket)
        pk = ticket.pk
        self.live_fire_ticket = pk
        self.later(
            3,
            3,
            lambda: tickets.reply(
                actor=agent,
                ticket=Ticket.objects.get(pk=pk),
                body="已通知驻场工程师到场，正在切换备用空调。",
            ),
        )
        self.later(8, 8, lambda: self.call_fire(pk, agent))

    def _waiting_hand_off(self) -> None:
        contact = self.cast.contacts["huadong-bio"][1]
        project = self.projects["huadong-bio"][0]
        ticket = tickets.create_ticket(
            actor=contact,
            title="奉贤基地 1# 锅炉燃烧器点火失败",
            description="<p>早上 1# 锅炉点火三次失败，目前由 2# 锅炉单独供汽。</p>",
            project=project,
            site=project.sites.order_by("pk").last(),
            severity=Severity.S3,
        )
        self.history.tickets.append(ticket)
        pk, agent = ticket.pk, self.cast.agents[-1]

        def first_and_hand_off():
            current = tickets.take_ticket(actor=agent, ticket=Ticket.objects.get(pk=pk))
            tickets.reply(actor=agent, ticket=current, body="已收到，安排锅炉工程师跟进。")
            tickets.request_hand_off(
                actor=agent,
                ticket=Ticket.objects.get(pk=pk),
                to_user=self.cast.engineer,
                message="锅炉燃烧器问题，请工程师接手。",
            )

        self.later(20, 20, first_and_hand_off)

    def _fresh_request(self, customer, title, description) -> None:
        contact = self.cast.contacts[customer][0]
        project = self.projects[customer][0]
        ticket = tickets.create_ticket(
            actor=contact,
            title=title,
            description=f"<p>{description}</p>",
            project=project,
            site=project.sites.order_by("pk").first(),
            severity=Severity.S3,
        )
        self.history.tickets.append(ticket)

    def stand_down_old_fires(self) -> None:
        """The present has one live fire. A history ticket that caught fire in the last
        hours (whose resolution would come after now) had its fire stood down already."""
        live = getattr(self, "live_fire_ticket", None)
        for ticket in Ticket.objects.filter(fire_open=True).exclude(pk=live):
            fire.close_fire_calls(actor=None, ticket=ticket)

    def play(self) -> None:
        next_sweep = self.clock.at + dt.timedelta(hours=1)
        while self.queue:
            when, _, step = heapq.heappop(self.queue)
            while next_sweep <= when:
                self.clock.at = next_sweep
                sweep(now=next_sweep)
                next_sweep += dt.timedelta(hours=1)
            self.clock.at = when
            try:
                step()
            except DomainError as exc:
                self.history.refused.append(f"{when:%m-%d %H:%M} {exc.code}: {exc.message}")

    def later(self, minutes_low: int, minutes_high: int, step) -> None:
        self.at(
            self.clock.at + dt.timedelta(minutes=self.rng.randint(minutes_low, minutes_high)), step
        )

    # -- steps

    def _new_ticket_step(self):
        customer = self.rng.choice(sorted(text.REQUESTS))
        theme, weight_key, title, description = self.rng.choice(text.REQUESTS[customer])
        severity = self.rng.choices(SEVERITIES, weights=text.SEVERITY_WEIGHTS[weight_key])[0]
        return lambda: self.open_ticket(customer, theme, title, description, severity)

    def open_ticket(self, customer_code, theme, title, description, severity) -> None:
        contacts = self.cast.contacts[customer_code]
        contact = self.rng.choice(contacts)
        project = self.rng.choice(self.projects[customer_code])
        site = self.rng.choice(list(project.sites.all()))
        asset = self.rng.choice(self.assets[site.pk]) if self.assets[site.pk] else None
        by_phone = severity == Severity.S1 or self.rng.random() < 0.35
        agent = self.rng.choice(self.cast.agents)
        common = {
            "title": title,
            "description": f"<p>{description}</p>",
            "project": project,
            "site": site,
            "asset": asset,
            "severity": severity,
            "category": self.categories["fault" if severity in {"S1", "S2"} else "request"],
        }
        if by_phone:
            ticket = tickets.create_ticket(
                actor=agent,
                customer=contact.organization,
                contact=contact,
                channel=Channel.PHONE,
                **common,
            )
        else:
            ticket = tickets.create_ticket(actor=contact, **common)
        self.history.tickets.append(ticket)
        if theme:
            self.history.themes[theme].append(ticket)
        first, _ = TARGETS[severity]
        # Most first responses come well inside the target; one in eight is late.
        late = self.rng.random() < 0.125
        low, high = (first + 5, first * 3) if late else (2, max(5, first // 2))
        self.later(low, high, lambda: self.first_response(ticket.pk, agent, contact))

    def first_response(self, pk, agent, contact) -> None:
        ticket = Ticket.objects.get(pk=pk)
        if ticket.first_handled_at is None:
            ticket = tickets.take_ticket(actor=agent, ticket=ticket)
        owner = ticket.owner
        body = self.rng.choice(text.FIRST_REPLIES).format(
            engineer=self.rng.choice(self.cast.engineers)
        )
        tickets.reply(actor=owner, ticket=ticket, body=body)
        tickets.transition(
            actor=owner, ticket=Ticket.objects.get(pk=pk), to_status=TicketStatus.IN_PROGRESS
        )
        severity = ticket.severity
        if severity in {"S1", "S2"} and self.rng.random() < 0.6:
            self.later(5, 20, lambda: self.call_fire(pk, owner))
        roll = self.rng.random()
        if roll < 0.2:
            self.later(20, 90, lambda: self.hand_off(pk, owner))
        elif roll < 0.45:
            self.later(30, 180, lambda: self.ask_customer(pk, owner, contact))
        else:
            self.later(
                10,
                120,
                lambda: tickets.add_note(
                    actor=owner, ticket=Ticket.objects.get(pk=pk), body=self.rng.choice(text.NOTES)
                ),
            )
        low, high = WORK[severity]
        if self.rng.random() < 0.1:  # a few overrun badly: SLA breaches with escalation
            low, high = high * 2, high * 4
        self.later(low, high, lambda: self.resolve(pk, contact))

    def call_fire(self, pk, owner) -> None:
        ticket = Ticket.objects.get(pk=pk)
        call = fire.call_fire(
            actor=owner,
            ticket=ticket,
            level=ticket.severity,
            message=self.rng.choice(text.FIRE_MESSAGES),
        )
        summoned = list(fire.summoned_users(call.level).exclude(pk=owner.pk)[:12])
        for person in self.rng.sample(summoned, k=min(len(summoned), self.rng.randint(2, 4))):
            self.later(3, 40, lambda person=person: fire.join_fire(actor=person, fire_call=call))

    def hand_off(self, pk, owner) -> None:
        ticket = Ticket.objects.get(pk=pk)
        engineer = self.rng.choice(self.cast.engineers)
        if engineer.pk == ticket.owner_id:
            return
        request = tickets.request_hand_off(
            actor=owner, ticket=ticket, to_user=engineer, message="现场问题转交工程师继续跟进。"
        )
        if self.rng.random() < 0.85:
            self.later(10, 90, lambda: tickets.accept_hand_off(actor=engineer, hand_off=request))
        else:
            self.later(
                10,
                90,
                lambda: tickets.decline_hand_off(
                    actor=engineer,
                    hand_off=request,
                    reason="今天在奉贤基地值班，无法到场，请改派。",
                ),
            )

    def ask_customer(self, pk, owner, contact) -> None:
        ticket = Ticket.objects.get(pk=pk)
        if ticket.status != TicketStatus.IN_PROGRESS:
            return
        tickets.reply(actor=ticket.owner, ticket=ticket, body=self.rng.choice(text.WAITING_REPLIES))
        tickets.transition(
            actor=ticket.owner, ticket=ticket, to_status=TicketStatus.WAITING_CUSTOMER
        )
        self.later(
            60,
            600,
            lambda: tickets.reply(
                actor=contact,
                ticket=Ticket.objects.get(pk=pk),
                body=self.rng.choice(text.CUSTOMER_REPLIES),
            ),
        )

    def resolve(self, pk, contact) -> None:
        ticket = Ticket.objects.get(pk=pk)
        if ticket.status in {TicketStatus.RESOLVED, TicketStatus.CLOSED}:
            return
        owner = ticket.owner
        if ticket.status == TicketStatus.WAITING_CUSTOMER:
            ticket = tickets.transition(
                actor=owner, ticket=ticket, to_status=TicketStatus.IN_PROGRESS
            )
        if fire.brief_required(ticket):
            fire.write_brief(actor=owner, ticket=ticket, **text.BRIEF)
        tickets.reply(actor=owner, ticket=ticket, body=self.rng.choice(text.RESOLUTIONS))
        tickets.transition(
            actor=owner, ticket=Ticket.objects.get(pk=pk), to_status=TicketStatus.RESOLVED
        )
        if retrospectives.requires_retrospective(ticket):
            self.later(120, 1440, lambda: self.retrospective(pk, owner))
        self.later(240, 2880, lambda: self.confirm(pk, contact))

    def retrospective(self, pk, owner) -> None:
        ticket = Ticket.objects.get(pk=pk)
        retrospectives.write_retrospective(
            actor=self.cast.manager,
            ticket=ticket,
            summary=self.rng.choice(text.RETRO_SUMMARIES),
            attribution=self.rng.choice(
                ["operations", "delivery", "third_party", "customer_environment"]
            ),
            actions=[
                {
                    "description": "复核同类设备保护定值",
                    "owner": owner,
                    "due_on": (self.clock.at + dt.timedelta(days=14)).date(),
                }
            ],
        )

    def confirm(self, pk, contact) -> None:
        ticket = Ticket.objects.get(pk=pk)
        if ticket.status != TicketStatus.RESOLVED:
            return
        if retrospectives.requires_retrospective(ticket) and not retrospectives.has_retrospective(
            ticket
        ):
            self.later(240, 720, lambda: self.confirm(pk, contact))
            return
        if self.rng.random() < 0.75:
            ticket = tickets.confirm_resolution(actor=contact, ticket=ticket)
            tickets.rate(
                actor=contact,
                ticket=ticket,
                rating=self.rng.choice([5, 5, 5, 4, 4, 3]),
                comment=self.rng.choice(["响应很快，处理专业。", "", "希望报告能更及时。"]),
            )
        else:
            tickets.transition(actor=ticket.owner, ticket=ticket, to_status=TicketStatus.CLOSED)


# ---------------------------------------------------------------- afterwards


def _problems(cast: Cast, history: History) -> None:
    """Three problems group the recurring themes; one already has its fix under way."""
    for index, (theme, (title, description, attribution, plan)) in enumerate(text.PROBLEMS.items()):
        linked = history.themes.get(theme, [])
        if not linked:
            continue
        problem = problems.create_problem(
            actor=cast.manager,
            title=title,
            description=description,
            tickets=linked,
            attribution=attribution,
            fix_plan=plan,
            fix_owner=cast.engineers[index],
            fix_due_on=(timezone.now() + dt.timedelta(days=20 + 10 * index)).date(),
        )
        if index == 0:
            problems.transition_problem(
                actor=cast.manager, problem=problem, to_status=ProblemStatus.FIX_IN_PROGRESS
            )


def _quiet_inbox(now: dt.datetime) -> None:
    """Old notifications read, and no demo email ever sent when the worker starts."""
    Notification.objects.filter(created_at__lt=now - dt.timedelta(days=3)).update(
        read_at=F("created_at")
    )
    OutboundEmail.objects.filter(status=EmailStatus.PENDING).update(
        status=EmailStatus.SENT, sent_at=F("created_at"), last_error="demo: not sent"
    )
