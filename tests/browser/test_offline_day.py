"""The engineer's day without a signal, in a real browser on a phone-sized screen.

Online, the phone opens today's list and keeps the day's pages (service worker). Then the
signal goes: the engineer accepts a job, checks in, walks a whole round with readings
and a photo, and reloads the page, all offline; what was done is still shown, waiting to
sync. The signal comes back: the outbox syncs by itself, and the server holds every
action exactly once, with the phone's times (not the time the server received them).

Chromium's offline switch does not reach the service worker's own requests, so while
"offline" those are aborted too (Playwright routes them; see the fixture): the pages
really come from the phone's cache.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from frontline.field.models import WorkOrder
from frontline.field.states import WorkOrderStatus
from frontline.field.tests.factories_mobile import job
from frontline.inspections.models import PointVisit, Round
from frontline.inspections.states import ItemKind, RoundStatus
from frontline.inspections.tests import factories as fi
from frontline.sync.models import SyncAction
from frontline.testing import factories as f

pytestmark = [pytest.mark.browser]

# A few metres from the SiteFactory's site (31.2034, 121.587).
NEAR_SITE = {"latitude": 31.20345, "longitude": 121.58705, "accuracy": 12}
ITEMS = (
    {"name": "出水温度", "kind": ItemKind.NUMBER, "unit": "°C", "lo": "5", "hi": "12"},
    {"name": "压力表照片", "kind": ItemKind.PHOTO},
)


class Phone:
    """A 390×844 touch phone with its position, whose signal can be cut."""

    def __init__(self, chromium, live_server):
        self.context = chromium.new_context(
            base_url=live_server.url, locale="en-US", viewport={"width": 390, "height": 844},
            device_scale_factor=2, is_mobile=True, has_touch=True, geolocation=NEAR_SITE,
            permissions=["geolocation"], service_workers="allow",
        )  # fmt: skip
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console",
            lambda msg: (
                self.errors.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )
        self.server_hits: list[str] = []
        self.offline = False
        self.context.route("**/*", self._route)

    def _route(self, route):
        if self.offline:
            # Nothing reaches the server while there is no signal, the worker's fetches included.
            route.abort("internetdisconnected")
            return
        self.server_hits.append(route.request.url)
        route.continue_()

    def signal(self, on: bool) -> None:
        self.offline = not on
        self.context.set_offline(not on)

    def keep_day(self, sign_in, email: str = "engineer@t.example") -> None:
        """Sign in with a signal, open today's list, and wait until the phone has kept
        the day's pages and the service worker serves this page."""
        sign_in(self.page, email, f.PASSWORD)
        self.page.goto("/m/")
        self.page.wait_for_selector("[data-testid=offline-ready][data-ready='1']", state="attached")
        self.page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    def waiting(self) -> int:
        return int(self.page.locator("[data-testid=outbox-count]").text_content() or 0)


@pytest.fixture
def phone(chromium, live_server):
    p = Phone(chromium, live_server)
    try:
        yield p
    finally:
        p.context.close()


@pytest.fixture
def day(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    wo = job(cast, step="dispatched")
    route = fi.route(customer=cast.customer_a, points=2, items=ITEMS)
    rnd = fi.round_for(route, cast.engineer, opens=timezone.now() - dt.timedelta(minutes=30))
    return wo, rnd


def picture(tmp_path) -> str:
    import segno

    path = tmp_path / "gauge.png"
    segno.make("gauge 0.4 MPa").save(str(path), kind="png", scale=6)
    return str(path)


@pytest.mark.django_db(transaction=True)
def test_a_day_without_signal_syncs_every_action_once_with_the_phones_times(
    phone, day, cast, sign_in, tmp_path
):
    wo, rnd = day
    page = phone.page
    started = timezone.now().replace(microsecond=0)
    # The phone's clock, fixed so the server's copy can be compared with it exactly.
    job_time = started + dt.timedelta(seconds=2)
    round_time = started + dt.timedelta(seconds=4)

    # Given the engineer opened today's list with a signal, and the phone kept the day
    phone.keep_day(sign_in)

    # When the signal goes
    phone.signal(False)
    hits_before = len(phone.server_hits)
    page.clock.set_fixed_time(job_time)

    # … the job opens from the phone, is accepted and checked in
    page.goto(f"/m/jobs/{wo.pk}/")
    page.locator("[data-testid=bar-accept]").tap()
    page.wait_for_selector("[data-testid=step-travel]:visible")
    page.locator("[data-testid=check-in]").tap()
    page.wait_for_selector("[data-testid=checklist]:visible")
    assert phone.waiting() == 2
    assert page.locator("[data-testid=outbox]").is_visible()

    # … the round opens from the phone and is walked: a reading and a photo at each point
    page.clock.set_fixed_time(round_time)
    page.goto(f"/inspections/m/rounds/{rnd.pk}/")
    page.locator("[data-testid=start]").tap()
    for code, value in (("P01", "7.5"), ("P02", "8")):
        page.wait_for_selector(f"[data-testid=checkpoint-panel][data-cp-code={code}]")
        page.locator("[data-testid=item-input]").fill(value)
        page.locator("[data-testid=item-photo]").set_input_files(picture(tmp_path))
        page.locator("[data-testid=save-next]").tap()
        page.wait_for_selector(f"[data-testid=checkpoint-done][data-code={code}][data-queued='1']")
    page.locator("[data-testid=finish]").tap()
    page.wait_for_selector("#round-app[data-state=completed]")

    # … and the page is reloaded, still offline: what was done is still there
    page.reload()
    page.wait_for_selector("#round-app[data-state=completed]")
    assert page.locator("[data-testid=checkpoint-done][data-queued='1']").count() == 2
    page.goto(f"/m/jobs/{wo.pk}/")
    page.wait_for_selector("[data-testid=checklist]:visible")
    assert phone.waiting() == 2 + 4 + 2  # job steps, round steps, photos
    assert len(phone.server_hits) == hits_before, "nothing reached the server while offline"
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.DISPATCHED
    assert not SyncAction.objects.exists()

    # Then the signal comes back and the phone syncs by itself
    back = timezone.now()
    phone.signal(True)
    page.wait_for_selector(
        "[data-testid=outbox][data-waiting='0']", state="attached", timeout=30_000
    )

    # … every action landed exactly once, applied, with the phone's times
    actions = list(SyncAction.objects.order_by("device_at", "received_at"))
    assert [a.kind for a in actions] == [
        "accept", "check_in", "start_round", "record_visit", "record_visit", "finish_round",
    ]  # fmt: skip
    assert {a.status for a in actions} == {"applied"}
    assert len({a.client_id for a in actions}) == 6
    assert all(a.user_id == cast.engineer.pk for a in actions)
    assert [a.device_at for a in actions[:2]] == [job_time, job_time]
    assert all(a.device_at == round_time for a in actions[2:])
    # (the server's receipt time is its own: after the signal came back, whatever the
    # phone's clock said)
    assert all(a.received_at >= back for a in actions)

    wo = WorkOrder.objects.get(pk=wo.pk)
    assert wo.status == WorkOrderStatus.ON_SITE
    assert wo.accepted_at == job_time and wo.checked_in_at == job_time

    rnd = Round.objects.get(pk=rnd.pk)
    assert rnd.status == RoundStatus.COMPLETED
    assert rnd.started_at == round_time and rnd.finished_at == round_time
    visits = list(PointVisit.objects.filter(round=rnd).prefetch_related("readings__item"))
    assert len(visits) == 2
    assert all(v.recorded_at == round_time for v in visits)
    for visit in visits:
        readings = {r.item.name: r for r in visit.readings.all()}
        assert readings["出水温度"].number in (7.5, 8)
        assert readings["压力表照片"].photo, "each photo followed its visit"
    assert phone.errors == []


@pytest.mark.django_db(transaction=True)
def test_a_job_reassigned_while_offline_comes_back_taken_back_with_the_reason(phone, cast, sign_in):
    from frontline.field import services
    from frontline.field.tests.factories import engineer

    wo = job(cast, step="dispatched")
    colleague = f.member("engineer", cast.operator, email="colleague@t.example")
    engineer(user=colleague)
    page = phone.page
    phone.keep_day(sign_in)

    # Given the engineer accepts and checks in without a signal
    phone.signal(False)
    page.goto(f"/m/jobs/{wo.pk}/")
    page.locator("[data-testid=bar-accept]").tap()
    page.locator("[data-testid=check-in]").tap()
    page.wait_for_selector("[data-testid=checklist]:visible")
    # … while the dispatcher gives the job to a colleague
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=colleague)

    # When the signal is back
    phone.signal(True)

    # Then the first step comes back "taken back" with the server's reason, the next one
    # "not sent" (it followed a refused step), and nothing was applied
    problems = page.locator("[data-testid=sync-problem]")
    problems.nth(1).wait_for(timeout=30_000)
    assert problems.count() == 2
    assert [problems.nth(i).get_attribute("data-status") for i in range(2)] == [
        "taken_back", "skipped",
    ]  # fmt: skip
    assert wo.number in problems.first.inner_text()
    assert "no longer assigned to you" in problems.first.inner_text()
    assert "earlier step" in problems.nth(1).inner_text()
    wo.refresh_from_db()
    assert wo.assignee_id == colleague.pk and wo.status == WorkOrderStatus.DISPATCHED
    assert list(SyncAction.objects.values_list("kind", "status")) == [("accept", "taken_back")]

    # … and the engineer dismisses them once read
    page.locator("[data-testid=sync-dismiss]").first.tap()
    page.locator("[data-testid=sync-dismiss]").first.tap()
    page.wait_for_selector("[data-testid=sync-problem]", state="detached")
    assert phone.errors == []


def _offline_with_the_day_kept(phone, sign_in):
    phone.keep_day(sign_in)
    phone.signal(False)
    return phone.page


def _accept_offline(page, wo) -> None:
    page.goto(f"/m/jobs/{wo.pk}/")
    page.locator("[data-testid=bar-accept]").tap()
    page.wait_for_selector("[data-testid=step-travel]:visible")


def _statuses(page) -> list[tuple[str, str]]:
    problems = page.locator("[data-testid=sync-problem]")
    return [
        (problems.nth(i).get_attribute("data-status"), problems.nth(i).get_attribute("data-code"))
        for i in range(problems.count())
    ]


@pytest.mark.django_db(transaction=True)
def test_an_action_the_server_cannot_read_is_kept_aside_and_the_rest_syncs(phone, cast, sign_in):
    first, second = job(cast, step="dispatched"), job(cast, step="dispatched")
    page = _offline_with_the_day_kept(phone, sign_in)

    # Given an action left in the outbox by an older version of the page, in a form this
    # server no longer reads (the whole batch is refused with 400, naming it)
    page.goto(f"/m/jobs/{first.pk}/")
    page.evaluate(
        "target => FrontlineOutbox.queue({kind: 'add_note', target: target, label: 'old step'})",
        first.pk,
    )
    # … and the engineer accepts that job and another one, offline
    _accept_offline(page, first)
    _accept_offline(page, second)
    assert phone.waiting() == 3

    # When the signal is back
    phone.signal(True)
    page.wait_for_selector(
        "[data-testid=outbox][data-waiting='0']", state="attached", timeout=30_000
    )

    # Then the unreadable action is kept as refused with the server's reason, the accept
    # after it on the same job is held (not sent), and the other job's accept is applied
    page.locator("[data-testid=sync-problem]").nth(1).wait_for()
    assert _statuses(page) == [("rejected", "invalid"), ("skipped", "skipped")]
    assert "not a valid choice" in page.locator("[data-testid=sync-problem]").first.inner_text()
    assert list(SyncAction.objects.values_list("kind", "target_id", "status")) == [
        ("accept", second.pk, "applied"),
    ]  # fmt: skip
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED)
    assert phone.errors == []


@pytest.mark.django_db(transaction=True)
def test_a_batch_too_large_is_sent_in_parts_and_an_action_too_large_alone_is_kept(
    phone, cast, sign_in
):
    import json

    jobs = [job(cast, step="dispatched") for _ in range(3)]
    too_large = jobs[1]
    page = _offline_with_the_day_kept(phone, sign_in)
    for wo in jobs:
        _accept_offline(page, wo)
    assert phone.waiting() == 3

    # Given a server that takes one action per request, and not the second job's at all
    # (413, as for a body over its size limit)
    sizes = []

    def sync_endpoint(route):
        actions = json.loads(route.request.post_data)["actions"]
        sizes.append(len(actions))
        if len(actions) > 1 or actions[0]["target"] == too_large.pk:
            body = {"code": "too_large", "detail": "too large", "fields": {}}
            route.fulfill(status=413, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.route("**/api/v1/sync/", sync_endpoint)
    # When the signal is back
    phone.signal(True)
    page.wait_for_selector(
        "[data-testid=outbox][data-waiting='0']", state="attached", timeout=30_000
    )

    # Then the batch went in halves down to single actions: the first and third jobs are
    # accepted, the second's accept is kept on the phone as too large to send
    page.locator("[data-testid=sync-problem]").first.wait_for()
    assert sizes == [3, 2, 1, 1, 1]
    assert _statuses(page) == [("rejected", "too_large")]
    assert "Too large to send" in page.locator("[data-testid=sync-problem]").inner_text()
    assert sorted(SyncAction.objects.values_list("target_id", flat=True)) == sorted(
        [jobs[0].pk, jobs[2].pk]
    )
    assert phone.errors == []


KEPT_JOB_PAGES = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) { urls.push(new URL(request.url).pathname); }
  }
  return urls.filter((path) => path.startsWith("/m/jobs/")).sort();
}"""


@pytest.mark.django_db(transaction=True)
def test_a_shared_phone_keeps_only_the_signed_in_engineers_pages(phone, cast, sign_in):
    colleague = f.member("engineer", cast.operator, email="colleague@t.example")
    mine = job(cast, step="dispatched")
    theirs = job(cast, step="dispatched", eng=colleague)
    page = phone.page

    # Given the engineer's day is kept on the phone
    phone.keep_day(sign_in)
    assert f"/m/jobs/{mine.pk}/" in page.evaluate(KEPT_JOB_PAGES)

    # When the session ends without a sign-out (it expired) and a colleague signs in
    phone.context.clear_cookies()
    phone.keep_day(sign_in, "colleague@t.example")

    # Then the phone keeps the colleague's day, and nothing of the engineer's
    assert page.evaluate(KEPT_JOB_PAGES) == [f"/m/jobs/{theirs.pk}/"]
    # … and without a signal, the engineer's job page is not there to open: the phone
    # falls back to the colleague's day
    phone.signal(False)
    page.goto(f"/m/jobs/{mine.pk}/")
    assert theirs.number in page.content() and mine.number not in page.content()
    phone.signal(True)

    # When the colleague signs out from the phone's menu
    page.goto("/m/")
    page.locator("[aria-label=Menu]").tap()
    page.locator("form[data-sign-out] button").tap()
    page.wait_for_url("**/accounts/login/**")

    # Then no one's pages are left on the phone
    page.wait_for_function(f"({KEPT_JOB_PAGES})().then((urls) => urls.length === 0)")
    assert phone.errors == []
