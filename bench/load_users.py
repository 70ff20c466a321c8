"""Locust users for bench/load.py (run by it: ``locust -f bench/load_users.py``).

``LOAD_FIXTURES`` names the JSON file bench/load.py wrote (tokens, sessions, ids);
``LOAD_SET`` picks the users: ``mixed`` (Frontline's API workload), ``fl-pages`` or
``hd-pages`` (the equivalent desk operations on Frontline's and django-helpdesk's pages).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import uuid
from datetime import UTC, datetime

from locust import FastHttpUser, between, tag, task  # noqa: F401

FIXTURES = json.loads(open(os.environ["LOAD_FIXTURES"], encoding="utf-8").read())  # noqa: SIM115
SET = os.environ.get("LOAD_SET", "mixed")
_slots = itertools.count()
_rng = random.Random(7)

TITLES = [
    "2# 冷机高压报警",
    "配电房 UPS 告警",
    "洁净区压差偏低",
    "AHU-3 送风温度偏高",
    "冷却塔风机异响",
]
BODIES = [
    "现场已确认，请尽快安排工程师。",
    "已复位，设备恢复运行，继续观察。",
    "请提供报警时的面板读数。",
]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _check(response, expected: tuple[int, ...]):
    if response.status_code not in expected:
        response.failure(f"{response.status_code}: {response.text[:200]!r}")
    else:
        response.success()


class _Api(FastHttpUser):
    abstract = True
    wait_time = between(0, 0)
    role = ""

    def on_start(self):
        pool = FIXTURES[self.role]
        self.me = dict(pool[next(_slots) % len(pool)])
        # Each locust run (warm-up, measured) takes its own share of the orders and
        # rounds: an order is accepted once, a checkpoint visited once per round.
        part, parts = int(os.environ.get("LOAD_PART", 0)), int(os.environ.get("LOAD_PARTS", 1))
        for key in ("orders", "rounds"):
            if key in self.me:
                self.me[key] = [dict(r) if isinstance(r, dict) else r
                                for r in self.me[key][part::parts]]  # fmt: skip
                for r in self.me[key]:
                    if isinstance(r, dict):
                        r["points"] = list(r["points"])
        self.auth = {"Authorization": f"Bearer {self.me['token']}"}

    def get(self, path: str, name: str):
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as r:
            _check(r, (200,))
            return r

    def post(self, path: str, body: dict, name: str, expected=(200, 201)):
        with self.client.post(path, json=body, headers=self.auth, name=name,
                              catch_response=True) as r:  # fmt: skip
            _check(r, expected)
            return r


class Customer(_Api):
    """A customer's contact: submits tickets, lists and reads their organisation's."""

    role = "customers"
    weight = 3

    @task(1)
    def submit(self):
        body = {"title": _rng.choice(TITLES), "description": _rng.choice(BODIES),
                "project": self.me["project"], "severity": "S3"}  # fmt: skip
        self.post("/api/v1/tickets/", body, "customer: submit ticket")

    @task(3)
    def list(self):
        self.get("/api/v1/tickets/", "customer: list tickets")

    @task(3)
    def read(self):
        self.get(f"/api/v1/tickets/{_rng.choice(self.me['tickets'])}/", "customer: read ticket")


class Agent(_Api):
    """A service-desk agent: lists the queue, opens tickets, replies."""

    role = "agents"
    weight = 3

    @task(3)
    def list(self):
        self.get("/api/v1/tickets/?status=in_progress", "agent: list tickets")

    @task(3)
    def open(self):
        self.get(f"/api/v1/tickets/{_rng.choice(self.me['tickets'])}/", "agent: open ticket")

    @task(1)
    def reply(self):
        pk = _rng.choice(self.me["tickets"])
        self.post(f"/api/v1/tickets/{pk}/reply/", {"body": _rng.choice(BODIES)}, "agent: reply")


class Engineer(_Api):
    """A field engineer: lists their work, accepts → checks in → completes the next
    dispatched order, and records the next checkpoint of their inspection round."""

    role = "engineers"
    weight = 2

    @task(1)
    def my_orders(self):
        self.get("/api/v1/work-orders/?status=dispatched", "engineer: list work orders")

    @task(1)
    def work_order(self):
        if not self.me["orders"]:
            return
        pk, lat, lon = self.me["orders"].pop()
        base = f"/api/v1/work-orders/{pk}"
        self.post(f"{base}/accept/", {}, "engineer: accept work order")
        self.post(f"{base}/check-in/", {"latitude": lat, "longitude": lon},
                  "engineer: check in")  # fmt: skip
        body = {"resolution_code": "fixed", "resolution_notes": "更换接触器后恢复正常"}
        self.post(f"{base}/complete/", body, "engineer: complete work order")

    @task(3)
    def visit(self):
        point = _next_point(self.me)
        if point is None:
            return
        round_id, checkpoint, readings = point
        body = {"checkpoint": checkpoint, "readings": readings, "scanned": True}
        self.post(f"/api/v1/rounds/{round_id}/visits/", body, "engineer: record visit")


def _next_point(me: dict):
    """The next checkpoint of the engineer's current round (a fresh round when done)."""
    while me["rounds"]:
        current = me["rounds"][-1]
        if current["points"]:
            checkpoint, readings = current["points"].pop(0)
            return current["id"], checkpoint, readings
        me["rounds"].pop()
    return None


class Device(_Api):
    """Telemetry-like writes: a phone's offline queue (POST /api/v1/sync/), one batch
    per inspection round: every checkpoint with its readings."""

    role = "devices"
    weight = 1

    @task
    def sync(self):
        if not self.me["rounds"]:
            return
        r = self.me["rounds"].pop()
        actions = [
            {"client_id": str(uuid.uuid4()), "kind": "record_visit", "target": r["id"],
             "device_at": _now(), "data": {"checkpoint": cp, "readings": readings}}
            for cp, readings in r["points"]
        ]  # fmt: skip
        body = {"device_id": self.me["device"], "actions": actions}
        with self.client.post("/api/v1/sync/", json=body, headers=self.auth,
                              name="device: sync batch (round)", catch_response=True) as resp:  # fmt: skip
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}: {resp.text[:200]!r}")
                return
            rejected = resp.json()["summary"]["rejected"]
            if rejected:
                resp.failure(f"{rejected} actions rejected: {resp.text[:300]!r}")


# ---------------------------------------------------------------- pages, both systems


class _Pages(FastHttpUser):
    abstract = True
    wait_time = between(0, 0)
    system = ""

    def on_start(self):
        self.site = FIXTURES["pages"][self.system]
        cookie = f"sessionid={self.site['session']}; csrftoken={self.site['csrf']}"
        self.headers = {"Cookie": cookie, "X-CSRFToken": self.site["csrf"]}

    def get(self, path, name):
        with self.client.get(path, headers=self.headers, name=name, catch_response=True) as r:
            _check(r, (200,))

    def post(self, path, form: dict, name):
        with self.client.post(path, data=form, headers=self.headers, name=name,
                              allow_redirects=False, catch_response=True) as r:  # fmt: skip
            _check(r, (302, 303))


class FrontlinePages(_Pages):
    system = "frontline"

    @task(1)
    def create(self):
        s = self.site
        form = {"customer": s["customer"], "project": s["project"], "channel": "phone",
                "severity": "S3", "title": _rng.choice(TITLES),
                "description": _rng.choice(BODIES)}  # fmt: skip
        self.post("/tickets/new/", form, "create ticket")

    @task(3)
    def list(self):
        self.get("/tickets/", "list tickets")

    @task(3)
    def view(self):
        self.get(f"/tickets/{_rng.choice(self.site['tickets'])}/", "view ticket")

    @task(1)
    def follow_up(self):
        pk = _rng.choice(self.site["tickets"])
        self.post(f"/tickets/{pk}/reply/", {"reply-body": _rng.choice(BODIES)}, "add follow-up")


def _datatables_query() -> str:
    """django-helpdesk's ticket list data request for its default query (open and
    reopened tickets, by creation), as its list page makes it."""
    query = {"filtering": {"status__in": [1, 2]}, "sorting": "created", "search_string": "",
             "sortreverse": False}  # fmt: skip
    return base64.b64encode(json.dumps(query).encode()).decode()


class HelpdeskPages(_Pages):
    system = "helpdesk"

    @task(1)
    def create(self):
        form = {"queue": self.site["queue"], "title": _rng.choice(TITLES),
                "body": _rng.choice(BODIES), "priority": 3,
                "submitter_email": "customer@example.com", "assigned_to": ""}  # fmt: skip
        self.post("/tickets/submit/", form, "create ticket")

    @task(3)
    def list(self):
        # The list page is a shell; its rows come from the datatables request it makes.
        self.get("/tickets/", "list tickets")
        self.get(f"/datatables_ticket_list/{_datatables_query()}?draw=1&start=0&length=25",
                 "list tickets (data)")  # fmt: skip

    @task(3)
    def view(self):
        self.get(f"/tickets/{_rng.choice(self.site['tickets'])[0]}/", "view ticket")

    @task(1)
    def follow_up(self):
        # The ticket page's update form as a browser posts it: title, queue, priority and
        # status unchanged, a public comment.
        pk, title, queue = _rng.choice(self.site["tickets"])
        form = {"comment": _rng.choice(BODIES), "new_status": 1, "public": 1,
                "title": title, "queue": queue, "priority": 3}  # fmt: skip
        self.post(f"/tickets/{pk}/update/", form, "add follow-up")


_SETS = {
    "mixed": [Customer, Agent, Engineer, Device],
    "fl-pages": [FrontlinePages],
    "hd-pages": [HelpdeskPages],
}
for _cls in [Customer, Agent, Engineer, Device, FrontlinePages, HelpdeskPages]:
    _cls.abstract = _cls not in _SETS[SET]
del _cls  # locust would see the last class twice
