"""SECURITY.md 8 and 9 in a real browser: the hostile corpus in every text and rich-text
field of a world, rendered in Chromium with the CSP on, by staff, the customer and the
engineer. Nothing may run: no dialog, no script error, no CSP violation (a violation
means markup got through unescaped and only the CSP stopped it), and no live handler,
``javascript:`` link, ``<base>``, ``<iframe>`` or refresh ``<meta>`` in the DOM.

Rich-text fields (ticket description, reply bodies, work order description) hold what
the services store: the corpus after ``core.richtext.sanitize`` (that the services do
sanitise is tested per app, e.g. desk/tests/test_pages_safety.py). Plain text fields hold
the corpus raw, as a crafted API call could store it.
"""

from __future__ import annotations

import pytest
from django.db import models
from django.test import Client
from django.urls import reverse

from frontline.core.richtext import sanitize
from frontline.desk.models import TicketEvent
from frontline.desk.states import EventKind
from tests.security.world import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CORPUS = (
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(2)>",
    '<a href="javascript:alert(3)">link</a>',
    '<form><button formaction="javascript:alert(4)">go</button></form>',
    "<style>body{display:none}</style>",
    '<iframe src="javascript:alert(5)"></iframe>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(6)">',
    '"><script>alert(7)</script>',
    "{{7*7}}",
    "'};alert(8)//",
    "</script><script>alert(9)</script>",
)
HOSTILE = " ".join(CORPUS)

LIVE_MARKUP = """() => document.querySelectorAll(
  '[onerror],[onload],[onclick],[formaction],a[href^="javascript:" i],base,iframe,' +
  'meta[http-equiv="refresh" i],script:not([src]):not([type="application/json"])'
).length"""


def _plant(obj, **rich):
    """Every plain text field of ``obj`` gets the corpus (cut to its length); ``rich``
    fields get the sanitised corpus."""
    values = {}
    for field in obj._meta.concrete_fields:
        if isinstance(field, models.CharField | models.TextField) and not field.choices:
            if field.unique or field.name in {"number", "code", "email", "password", "token_hash"}:
                continue
            values[field.name] = HOSTILE[: field.max_length] if field.max_length else HOSTILE
    values.update({name: sanitize(HOSTILE) for name in rich})
    type(obj).objects.filter(pk=obj.pk).update(**values)


def _world():
    world = World()
    a = world.sides["a"]
    _plant(a["ticket"], description=True)
    TicketEvent.objects.create(
        ticket=a["ticket"], kind=EventKind.REPLY, public=True, body=sanitize(HOSTILE)
    )
    _plant(a["work_order"], description=True)
    for kind in ("site", "project", "asset", "route", "checkpoint", "anomaly", "team"):
        _plant(a[kind])
    _plant(a["problem"], description=False)
    for who in ("customer_a_user", "engineer", "partner_engineer"):
        type(getattr(world.actors, who)).objects.filter(pk=getattr(world.actors, who).pk).update(
            display_name=HOSTILE[:100]
        )
    return world


def _visits(world):
    a = world.sides["a"]
    staff = [
        reverse("home"),
        reverse("desk:ticket-list"),
        reverse("desk:ticket-detail", args=[a["ticket"].pk]),
        reverse("desk:problem-detail", args=[a["problem"].pk]),
        reverse("sites:site-list"),
        reverse("sites:site-detail", args=[a["site"].pk]),
        reverse("sites:site-map"),
        reverse("sites:project-detail", args=[a["project"].pk]),
        reverse("sites:asset-detail", args=[a["asset"].pk]),
        reverse("field:work-order-list"),
        reverse("field:work-order-detail", args=[a["work_order"].pk]),
        reverse("field:board"),
        reverse("field:engineer-list"),
        reverse("inspections:route-detail", args=[a["route"].pk]),
        reverse("inspections:anomaly-list"),
        reverse("inspections:anomaly-detail", args=[a["anomaly"].pk]),
        reverse("accounts:team-list"),
    ]
    customer = [
        reverse("desk:portal-ticket-list"),
        reverse("desk:portal-ticket-detail", args=[a["ticket"].pk]),
        reverse("field:portal-work-order-detail", args=[a["work_order"].pk]),
    ]
    engineer = [reverse("field:mobile-today"), reverse("inspections:mobile-rounds")]
    return {"admin": staff, "customer_a_user": customer, "engineer": engineer}


def _sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_the_corpus_runs_nowhere(page, live_server):
    world = _world()
    problems = []
    for who, paths in _visits(world).items():
        _sign_in(page, live_server, getattr(world.actors, who))
        for path in paths:
            response = page.goto(path)
            page.wait_for_load_state()
            if response is None or response.status != 200:
                problems.append(f"{who} {path}: {response and response.status}")
                continue
            live = page.evaluate(LIVE_MARKUP)
            if live:
                problems.append(f"{who} {path}: {live} live element(s) from the corpus")
            if page.dialogs or page.js_errors:
                problems.append(f"{who} {path}: dialogs {page.dialogs}, errors {page.js_errors}")
                page.dialogs.clear()
                page.js_errors.clear()
    assert not problems, "\n".join(problems)
