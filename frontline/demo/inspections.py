"""Inspections demo: 25 routes over the five projects, their SOPs and schedules, and
``days`` days of rounds with readings, skipped points, anomalies and quality scores.

History is a bulk fixture (like the rest of the loader) written in a few set-based
inserts; the scores come from the real scoring service, the rounds still ahead from the
real generator, and today's open anomalies get their work orders and tickets through
the anomaly service. Each route has a habit (steady, average, poor) so that the daily
analysis shows steady routes above 90 and poor ones low, skipped and noisy.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from frontline.accounts.models import Team, User
from frontline.accounts.roles import Cap
from frontline.demo import data
from frontline.demo import inspections_data as spec
from frontline.inspections import anomalies as anomaly_services
from frontline.inspections import quality, schedules
from frontline.inspections.models import (
    Anomaly,
    CheckItem,
    Checkpoint,
    PointVisit,
    QualityScheme,
    Reading,
    Round,
    Route,
    Schedule,
    Sop,
    SopKpi,
    SopVersion,
)
from frontline.inspections.models.routes import new_qr_value
from frontline.inspections.states import (
    AnomalySource,
    AnomalyStatus,
    RoundStatus,
    SkipReason,
    VisitStatus,
)
from frontline.sites.models import Asset, Project, Site

PHOTO_NAME = "inspections/photos/demo-generator-room.png"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@dataclass
class InspectionHistory:
    routes: int = 0
    rounds: int = 0
    readings: int = 0
    anomalies: int = 0
    follow_ups: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "routes": self.routes,
            "rounds": self.rounds,
            "readings": self.readings,
            "anomalies": self.anomalies,
        }


def load_inspections(*, days: int = 60, seed: int = 20261122, now=None) -> InspectionHistory:
    """Routes and schedules always; ``days`` days of history when > 0; then the rounds
    ahead from the generator."""
    now = now or timezone.now()
    rng = random.Random(seed)
    history = InspectionHistory()
    with transaction.atomic():
        routes = _routes(rng)
        history.routes = len(routes)
        if days > 0:
            _History(rng, routes, history, now).play(days)
        schedules.generate_rounds(now=now)
        if days > 0:
            history.follow_ups = _follow_ups()
    return history


# ---------------------------------------------------------------- configuration


def _sops(admin: User) -> dict[str, SopVersion]:
    start = timezone.localdate() - dt.timedelta(days=120)
    kpis = [
        ("result", "quality_avg", "gte", "85"),
        ("result", "completion_rate", "gte", "0.95"),
        ("result", "coverage", "gte", "0.98"),
        ("process", "duration_cv", "lte", "0.30"),
        ("process", "handled_rate", "gte", "0.90"),
    ]
    out = {}
    rows = [
        ("SOP-HVAC-01", "冷站与空调系统巡检作业指导书", ""),
        ("SOP-ELEC-01", "变配电与 UPS 巡检规程", ""),
        ("SOP-REPAIR-01", "设备故障维修作业规范", "repair"),
    ]
    for code, title, wo_type in rows:
        sop = Sop.objects.create(code=code, title=title, work_order_type=wo_type)
        for number, effective in ((1, start), (2, start + dt.timedelta(days=75))):
            version = SopVersion.objects.create(
                sop=sop,
                number=number,
                effective_from=effective,
                created_by=admin,
                body=(
                    f"<h3>{title}（第 {number} 版）</h3><ol>"
                    "<li>到达巡检点后先扫码确认位置。</li>"
                    "<li>按顺序读取并记录仪表读数，超出范围的读数须拍照并说明。</li>"
                    "<li>检查有无漏水、漏油、异响、异味；发现异常立即上报。</li>"
                    "<li>不能到达的点位须注明原因，不得代填。</li></ol>"
                ),
            )
            SopKpi.objects.bulk_create(
                SopKpi(
                    version=version,
                    kind=kind,
                    metric=metric,
                    comparator=comparator,
                    target=Decimal(target if number == 2 or metric != "quality_avg" else "80"),
                    position=i,
                )
                for i, (kind, metric, comparator, target) in enumerate(kpis)
            )
            out[code] = version
    return out


def _routes(rng: random.Random) -> list[Route]:
    admin = User.objects.get(email="admin@example.com")
    sops = _sops(admin)
    standard = QualityScheme.objects.create(name="标准评分")
    gmp = QualityScheme.objects.create(
        name="GMP 严格评分",
        coverage_weight=45,
        pace_weight=20,
        photos_weight=5,
        timeliness_weight=20,
        anomalies_weight=10,
        min_seconds_per_point=45,
        standard=85,
    )
    teams = {t.name: t for t in Team.objects.filter(name__in=[t[0] for t in data.TEAMS])}
    by_name = {site.name: site for site in Site.objects.all()}
    sites = {key: by_name[name] for _c, key, name, *_rest in data.SITES}
    projects = {p.code: p for p in Project.objects.all()}
    demo_engineer = User.objects.get(email="engineer@example.com")
    walkers = {team.pk: _walkers(team) for team in teams.values()}
    rostered: dict[int, int] = {}
    routes, schedules_ = [], []
    for index, (project_code, site_key, kind, habit) in enumerate(spec.ROUTES):
        name, _sets, _extras, sched, minutes, team_index, action, priority = spec.ROUTE_KINDS[kind]
        site = sites[site_key]
        team = teams[data.TEAMS[team_index][0]]
        route = Route(
            project=projects[project_code],
            site=site,
            code=f"{kind}-{site_key.upper()}",
            name=f"{site.name} {name}",
            description=f"{name}：按顺序扫码、读数，发现异常立即上报。",
            expected_minutes=minutes,
            sop_version=sops["SOP-ELEC-01" if team_index == 1 else "SOP-HVAC-01"],
            quality_scheme=gmp if project_code.startswith("HD") else standard,
            anomaly_action=action,
            anomaly_priority=priority,
            anomaly_team=team,
        )
        route.demo_habit = habit
        route.demo_kind = kind
        routes.append(route)
        kind_, times, every, weekdays, window = sched
        grab = team.dispatch_mode == "grab"
        schedules_.append(
            Schedule(
                route=route,
                kind=kind_,
                times=times,
                every_hours=every,
                weekdays=weekdays,
                window_minutes=window,
                team=team,
                engineer=None
                if grab
                else _rostered(team, walkers[team.pk], demo_engineer, index, rostered),
                offer_for_grab=grab,
                starts_on=timezone.localdate() - dt.timedelta(days=400),
            )
        )
    Route.objects.bulk_create(routes)
    for schedule in schedules_:
        schedule.route_id = schedule.route.pk
    Schedule.objects.bulk_create(schedules_)
    _checkpoints(routes)
    return routes


def _walkers(team) -> list[User]:
    """The team's members who walk rounds (dispatchers sit in teams too)."""
    if team is None:
        return []
    return [m for m in team.members.order_by("id") if m.has_capability(Cap.DO_FIELD_WORK)]


def _rostered(team, walkers, demo_engineer, index: int, rostered: dict[int, int]) -> User:
    """The engineer a route's schedule gives its rounds to: engineer@example.com walks
    the first two routes (Zhangjiang's cold station and air handlers), the others go
    round the team's members in turn."""
    if index < 2:
        return demo_engineer
    members = [m for m in walkers if m.pk != demo_engineer.pk]
    turn = rostered.get(team.pk, 0)
    rostered[team.pk] = turn + 1
    return members[turn % len(members)]


def _points(route, assets, model_keys) -> list[tuple]:
    """(name, location, item set, asset) of a route's checkpoints: the site's equipment of
    the route's kinds, then the rooms and headers."""
    _name, item_sets, extras, *_rest = spec.ROUTE_KINDS[route.demo_kind]
    points = []
    for asset in assets:
        key = model_keys.get(asset.model.model)
        items = spec.MODEL_ITEMS.get(key) or spec.CATEGORY_ITEMS.get(asset.model.category)
        if items in item_sets:
            points.append((asset.name, asset.location, items, asset))
    points += [(name, location, items, None) for name, location, items in extras]
    return points


def _item(checkpoint, position: int, item: tuple) -> CheckItem:
    fields = {"checkpoint": checkpoint, "position": position, "name": item[0], "kind": item[1]}
    if item[1] == spec.N:
        fields.update(
            unit=item[2],
            normal_min=Decimal(item[3]) if item[3] else None,
            normal_max=Decimal(item[4]) if item[4] else None,
        )
    elif item[1] == spec.Y:
        fields["normal_answer"] = item[2]
    elif item[1] == spec.C:
        fields.update(choices=item[2], abnormal_choices=item[3])
    elif item[1] == spec.P:
        fields.update(photo_required=True)
    return CheckItem(**fields)


def _checkpoints(routes) -> None:
    model_keys = {fields[1]: key for key, fields in data.ASSET_MODELS.items()}
    assets: dict[int, list[Asset]] = {}
    for asset in Asset.objects.select_related("model").order_by("id"):
        assets.setdefault(asset.site_id, []).append(asset)
    checkpoints, item_sets = [], []
    for route in routes:
        points = _points(route, assets.get(route.site_id, []), model_keys)
        for position, (name, location, items, asset) in enumerate(points, start=1):
            checkpoints.append(
                Checkpoint(
                    route=route,
                    position=position,
                    code=f"{route.code}-{position:02d}",
                    name=name,
                    location=location,
                    asset=asset,
                    qr_value=new_qr_value(),
                )
            )
            item_sets.append(items)
    Checkpoint.objects.bulk_create(checkpoints)
    CheckItem.objects.bulk_create(
        _item(checkpoint, i, item)
        for checkpoint, items in zip(checkpoints, item_sets, strict=True)
        for i, item in enumerate(spec.ITEMS[items])
    )


# ---------------------------------------------------------------- history


class _History:
    def __init__(self, rng, routes, history, now):
        self.rng = rng
        self.routes = routes
        self.history = history
        self.now = now
        self.rounds: list[Round] = []
        self.visits: list[tuple[int, PointVisit]] = []  # (round index, visit)
        self.readings: list[tuple[int, Reading]] = []  # (visit index, reading)
        self.unhandled: dict[tuple[int, int], dict] = {}
        self.anomalies: list[dict] = []
        self.facts: dict[int, dict] = {}  # round index → what its score is computed from
        self.photo_saved = False
        self.demo_engineer_id = User.objects.get(email="engineer@example.com").pk

    def play(self, days: int) -> None:
        start = self.now - dt.timedelta(days=days)
        for route in self.routes:
            habit = spec.HABITS[route.demo_habit]
            checkpoints = list(route.checkpoints.prefetch_related("items").order_by("position"))
            schedule = route.schedules.get()
            members = _walkers(schedule.team)
            slots = [s for s in schedules.slots(schedule, start, self.now) if s[1] <= self.now]
            for n, (opens, closes) in enumerate(slots):
                # The roster changed over the weeks: history rotates over the team,
                # except the demo engineer's routes, which were always his.
                if schedule.engineer_id == self.demo_engineer_id:
                    assignee = schedule.engineer
                else:
                    assignee = members[n % len(members)] if members else None
                self._round(route, schedule, habit, checkpoints, opens, closes, assignee)
            if slots:
                schedule.generated_until = slots[-1][0]
                schedule.save(update_fields=["generated_until"])
        self._write()

    def _round(self, route, schedule, habit, checkpoints, opens, closes, assignee) -> None:
        rng = self.rng
        r = Round(
            route=route,
            schedule=schedule,
            project_id=route.project_id,
            customer_id=route.project.customer_id,
            window_start=opens,
            window_end=closes,
            team=schedule.team,
            assignee=assignee,
            points_planned=len(checkpoints),
        )
        index = len(self.rounds)
        self.rounds.append(r)
        if assignee is None or rng.random() < habit["missed"]:
            r.status = RoundStatus.MISSED
            return
        window = (closes - opens).total_seconds()
        if rng.random() < habit["late"]:
            r.started_at = opens + dt.timedelta(seconds=window * rng.uniform(0.7, 1.0))
        else:
            r.started_at = opens + dt.timedelta(seconds=window * rng.uniform(0.0, 0.25))
        minutes = route.expected_minutes * max(0.3, rng.gauss(1.0, habit["cv"]))
        unwalked = rng.random() < habit["unwalked"]
        if unwalked:
            minutes = max(3.0, len(checkpoints) * rng.uniform(0.1, 0.25))
        r.finished_at = r.started_at + dt.timedelta(minutes=minutes)
        r.status = RoundStatus.COMPLETED
        step = minutes * 60 / (len(checkpoints) + 1)
        at = r.started_at
        for checkpoint in checkpoints:
            at = at + dt.timedelta(seconds=max(4.0, rng.gauss(step, step * 0.2)))
            if rng.random() < habit["skip"]:
                reason = rng.choice(list(SkipReason.values))
                self.visits.append(
                    (
                        index,
                        PointVisit(
                            checkpoint=checkpoint,
                            status=VisitStatus.SKIPPED,
                            skip_reason=reason,
                            note=spec.SKIP_NOTES[reason],
                            recorded_at=at,
                            by=assignee,
                        ),
                    )
                )
                r.points_skipped += 1
                continue
            self._visit(index, r, checkpoint, at, habit, assignee, scanned=not unwalked)

    def _visit(self, index, r, checkpoint, at, habit, assignee, *, scanned) -> None:
        visit = PointVisit(
            checkpoint=checkpoint,
            status=VisitStatus.VISITED,
            scanned=scanned,
            started_at=at - dt.timedelta(seconds=self.rng.randint(40, 150)),
            recorded_at=at,
            by=assignee,
        )
        visit_index = len(self.visits)
        self.visits.append((index, visit))
        r.points_visited += 1
        facts = self.facts.setdefault(index, {"times": [], "abnormal": [], "photos": [0, 0]})
        facts["times"].append(at)
        for item in checkpoint.items.all():
            reading = self._reading(item, habit)
            self.readings.append((visit_index, reading))
            if item.photo_required or item.kind == spec.P:
                facts["photos"][0] += 1
                facts["photos"][1] += bool(reading.photo.name)
            if reading.is_abnormal:
                row = self._anomaly(index, visit_index, r, checkpoint, item, reading, at, habit)
                if item.anomaly_when_abnormal:
                    facts["abnormal"].append(row)

    def _reading(self, item, habit) -> Reading:
        rng = self.rng
        abnormal = rng.random() < habit["abnormal"]
        reading = Reading(item=item, is_abnormal=abnormal)
        if item.kind == spec.N:
            mean, sd = _number_spec(item)
            value = rng.gauss(mean, sd)
            if abnormal:
                if item.normal_max is not None and (item.normal_min is None or rng.random() < 0.7):
                    value = float(item.normal_max) + abs(rng.gauss(sd * 1.5, sd))
                else:
                    value = float(item.normal_min) - abs(rng.gauss(sd * 1.5, sd))
            else:
                lo = float(item.normal_min) if item.normal_min is not None else value
                hi = float(item.normal_max) if item.normal_max is not None else value
                value = min(max(value, lo), hi)
            reading.number = Decimal(str(round(value, 2)))
        elif item.kind == spec.Y:
            reading.answer = (not item.normal_answer) if abnormal else item.normal_answer
        elif item.kind == spec.C:
            reading.text = item.abnormal_choices[0] if abnormal else item.choices[0]
        elif item.kind == spec.P:
            reading.is_abnormal = False
            if not self.photo_saved and not default_storage.exists(PHOTO_NAME):
                default_storage.save(PHOTO_NAME, ContentFile(PNG))
            self.photo_saved = True
            reading.photo.name = PHOTO_NAME if rng.random() > habit["skip"] * 2 else ""
        return reading

    def _anomaly(self, index, visit_index, r, checkpoint, item, reading, at, habit) -> None:
        key = (checkpoint.pk, item.pk)
        found = self.unhandled.get(key)
        if found is not None and (found["closed_at"] is None or found["closed_at"] > at):
            found["occurrences"] += 1
            found["last_seen_at"] = at
            return found
        source = AnomalySource.OUT_OF_RANGE if item.kind == spec.N else AnomalySource.FAILED_CHECK
        row = {
            "round": index,
            "visit": visit_index,
            "route": r.route,
            "checkpoint": checkpoint,
            "item": item,
            "source": source,
            "priority": r.route.anomaly_priority,
            "value": reading.display_value + (f" {item.unit}" if item.unit else ""),
            "raised_at": at,
            "last_seen_at": at,
            "occurrences": 1,
            "raised_by": r.assignee,
            "closed_at": None,
            "status": AnomalyStatus.OPEN,
        }
        roll = self.rng.random()
        later = at + dt.timedelta(hours=self.rng.uniform(2, 60))
        if roll < habit["handled"] and later < self.now:
            row.update(status=AnomalyStatus.HANDLED, closed_at=later)
        elif roll < habit["handled"] + 0.05 and later < self.now:
            row.update(status=AnomalyStatus.DISMISSED, closed_at=later)
        self.unhandled[key] = row
        self.anomalies.append(row)
        return row

    def _write(self) -> None:
        Round.objects.bulk_create(self.rounds, batch_size=2000)
        visits = []
        for round_index, visit in self.visits:
            visit.round = self.rounds[round_index]
            visits.append(visit)
        PointVisit.objects.bulk_create(visits, batch_size=2000)
        readings = []
        for visit_index, reading in self.readings:
            reading.visit = visits[visit_index]
            readings.append(reading)
        Reading.objects.bulk_create(readings, batch_size=5000)
        dispatcher = User.objects.get(email="dispatcher@example.com")
        rows = []
        for a in self.anomalies:
            r = self.rounds[a["round"]]
            handled = a["status"] == AnomalyStatus.HANDLED
            dismissed = a["status"] == AnomalyStatus.DISMISSED
            rows.append(
                Anomaly(
                    route=a["route"],
                    project_id=r.project_id,
                    customer_id=r.customer_id,
                    checkpoint=a["checkpoint"],
                    item=a["item"],
                    round=r,
                    visit=visits[a["visit"]],
                    source=a["source"],
                    status=a["status"],
                    priority=a["priority"],
                    description=f"{a['item'].name}：{a['value']}",
                    value=a["value"],
                    occurrences=a["occurrences"],
                    raised_at=a["raised_at"],
                    last_seen_at=a["last_seen_at"],
                    raised_by=a["raised_by"],
                    confirmed_at=a["closed_at"] if handled else None,
                    confirmed_by=dispatcher if handled else None,
                    handled_at=a["closed_at"] if handled or dismissed else None,
                    handled_by=dispatcher if handled or dismissed else None,
                    resolution=self.rng.choice(spec.RESOLUTIONS if handled else spec.DISMISSALS)
                    if handled or dismissed
                    else "",
                )
            )
        Anomaly.objects.bulk_create(rows, batch_size=2000)
        self._score()
        self.history.rounds = len(self.rounds)
        self.history.readings = len(readings)
        self.history.anomalies = len(rows)

    def _score(self) -> None:
        """Score with the real scoring rules, from the facts kept while writing (reading
        every round back would take minutes)."""
        done = []
        for index, r in enumerate(self.rounds):
            if r.status != RoundStatus.COMPLETED:
                continue
            done.append(r)
            kept = self.facts.get(index, {"times": [], "abnormal": [], "photos": [0, 0]})
            follows = r.route.anomaly_action != "none"
            facts = quality.RoundFacts(
                visit_times=tuple(kept["times"]),
                abnormal=len(kept["abnormal"]),
                reported=sum(
                    1 for a in kept["abnormal"] if not follows or a["status"] != AnomalyStatus.OPEN
                ),
                photos_required=kept["photos"][0],
                photos_with=kept["photos"][1],
            )
            score, parts = quality.score_round(r, facts)
            r.quality_computed = r.quality_score = score
            r.quality_parts = parts
        Round.objects.bulk_update(
            done, ["quality_computed", "quality_score", "quality_parts"], batch_size=1000
        )


NUMBER_SPECS = {
    (row[0], row[2]): (row[5], row[6])
    for rows in spec.ITEMS.values()
    for row in rows
    if row[1] == spec.N
}


def _number_spec(item) -> tuple[float, float]:
    """The demo's mean and spread for a numeric item."""
    return NUMBER_SPECS.get((item.name, item.unit), (0.0, 1.0))


def _follow_ups() -> int:
    """Open anomalies of the last two days get their work order or ticket by route rule."""
    dispatcher = User.objects.get(email="dispatcher@example.com")
    recent = timezone.now() - dt.timedelta(days=2)
    opened = 0
    for anomaly in (
        Anomaly.objects.filter(status=AnomalyStatus.OPEN, raised_at__gte=recent)
        .exclude(route__anomaly_action="none")
        .select_related("route", "checkpoint", "item")
        .order_by("raised_at")[:15]
    ):
        anomaly_services.open_follow_up(actor=dispatcher, anomaly=anomaly)
        opened += 1
    return opened
