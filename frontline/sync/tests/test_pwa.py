"""The phone app's three documents: the service worker, the web manifest and the list of
pages an engineer's phone keeps for offline use (their own day only)."""

from __future__ import annotations

import json

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frontline.field.tests.factories_mobile import job
from frontline.inspections.tests.factories import round_for, route
from frontline.sync.pwa import ASSETS
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def test_the_service_worker_is_served_from_the_root_as_script_and_never_cached(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    config = json.loads(body.split("var CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert "/static/field/mobile.js" in config["assets"]
    assert config["page_prefixes"] == ["/m/", "/inspections/m/"]
    assert config["offline_list"] == "/m/offline/"


def test_every_asset_the_worker_keeps_exists():
    missing = [name for name in ASSETS if finders.find(name) is None]
    assert missing == []


def test_the_cache_version_changes_with_the_assets(settings, client):
    first = client.get("/sw.js").content
    settings.FRONTLINE_VERSION = "next-release"
    assert client.get("/sw.js").content != first


def test_the_manifest_makes_the_phone_pages_installable(client):
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["start_url"] == "/m/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")) is not None


def test_the_manifest_speaks_the_users_language(client):
    client.cookies["django_language"] = "zh-hans"
    manifest = json.loads(client.get("/manifest.webmanifest").content)
    assert manifest["lang"] == "zh-hans"
    assert manifest["name"] != "Frontline for engineers"


def test_the_mobile_pages_link_the_manifest_and_the_outbox(cast, client):
    job(cast)
    client.force_login(cast.engineer)

    for url in ("/m/", "/inspections/m/"):
        page = client.get(url).content.decode()
        assert 'rel="manifest" href="/manifest.webmanifest"' in page
        assert 'data-testid="outbox"' in page and f'data-user="{cast.engineer.pk}"' in page
        assert "/static/sync/outbox.js" in page


def test_the_engineer_keeps_today_s_jobs_and_open_rounds(cast, client):
    mine = job(cast, step="accepted")
    other = job(cast, eng=f.member("engineer", cast.operator, email="other@t.example"))
    walk = round_for(route(customer=cast.customer_a), cast.engineer)
    client.force_login(cast.engineer)

    response = client.get("/m/offline/")

    assert response.status_code == 200
    pages = response.json()["pages"]
    assert "/m/" in pages and "/inspections/m/" in pages
    assert f"/m/jobs/{mine.pk}/" in pages
    assert f"/inspections/m/rounds/{walk.pk}/" in pages
    assert f"/m/jobs/{other.pk}/" not in pages
    assert "/static/sync/outbox.js" in response.json()["assets"]
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_list_costs_a_bounded_number_of_queries(cast, client):
    for _ in range(5):
        job(cast)
    client.force_login(cast.engineer)
    client.get("/m/offline/")  # warm the session and the capability cache

    with CaptureQueriesContext(connection) as few:
        client.get("/m/offline/")
    for _ in range(10):
        job(cast)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/m/offline/").status_code == 200
    assert len(many) == len(few)


@pytest.mark.parametrize("who", ["agent", "customer_a_user", None])
def test_no_list_for_anyone_who_does_no_field_work(cast, client, who):
    if who:
        client.force_login(getattr(cast, who))
    assert client.get("/m/offline/").status_code == 404


def test_a_job_page_holds_every_later_step_for_offline_use(cast, client):
    wo = job(cast, step="dispatched")
    client.force_login(cast.engineer)

    page = client.get(f"/m/jobs/{wo.pk}/").content.decode()

    # Shown now: accept. Kept hidden for later: travel, check-in, the on-site steps.
    assert 'data-testid="step-accept" data-when="dispatched">' in page
    assert 'data-testid="step-travel" data-when="accepted" hidden>' in page
    assert 'data-when="on_site" hidden>' in page
    for kind in ("accept", "reject", "start_travel", "check_in", "sign", "complete"):
        assert f'data-offline-kind="{kind}"' in page


def test_a_finished_job_page_has_no_steps_left(cast, client):
    wo = job(cast, step="completed")
    client.force_login(cast.engineer)

    page = client.get(f"/m/jobs/{wo.pk}/").content.decode()

    assert "data-offline-kind" not in page
    assert 'data-testid="done"' in page


def test_the_outbox_knows_which_kinds_act_on_a_round():
    """The phone holds the later actions on a refused action's work order or round as the
    server does (states.target_type_of): both must agree which kinds are a round's."""
    import re

    from frontline.sync.states import ROUND_KINDS

    source = open(finders.find("sync/outbox.js"), encoding="utf-8").read()
    listed = re.search(r"var ROUND_KINDS = \[([^\]]*)\]", source).group(1)
    assert set(re.findall(r'"(\w+)"', listed)) == {str(kind) for kind in ROUND_KINDS}
