"""In a real browser (Debian's Chromium) on a phone-sized screen: an engineer walks a
round, with one reading out of range → the anomaly appears on the anomaly pages → its
work order was opened by the route's rule → the daily analysis counts the round and the
anomaly for that route. All under the CSP (no inline script) and without a JS error.

Taps are counted as the engineer would make them: a tap on a button or list entry, or
the keypad's Enter; typing the digits of a reading is not a tap. A checkpoint with three
numeric readings takes 4 taps (open or Scan + Enter ×3, the last Enter saves), 3 once the
next checkpoint opens by itself; the issue asks for at most 6.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from frontline.field.models import WorkOrder
from frontline.inspections.models import Anomaly, PointVisit, Round
from frontline.inspections.states import ItemKind, RoundStatus, VisitStatus
from frontline.inspections.tests import factories as fi
from frontline.testing import factories as f

pytestmark = [pytest.mark.browser]

MAX_TAPS_PER_CHECKPOINT = 6
THREE_READINGS = (
    {"name": "出水温度", "kind": ItemKind.NUMBER, "unit": "°C", "lo": "5", "hi": "12"},
    {"name": "回水温度", "kind": ItemKind.NUMBER, "unit": "°C", "lo": "8", "hi": "16"},
    {"name": "冷却水压力", "kind": ItemKind.NUMBER, "unit": "MPa", "lo": "0.2", "hi": "0.6"},
)


def open_phone(chromium, live_server):
    """A 390×844 touch phone whose page records JS errors and CSP violations."""
    context = chromium.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 390, "height": 844},
        device_scale_factor=2, is_mobile=True, has_touch=True,
    )  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.js_errors = errors
    return context, page


@pytest.fixture
def phone(chromium, live_server):
    context, page = open_phone(chromium, live_server)
    try:
        yield page
    finally:
        context.close()


class Taps:
    """Counts what the engineer's thumb does: taps and the keypad's Enter."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def tap(self, selector: str) -> None:
        self.count += 1
        self.page.locator(selector).first.tap()

    def enter(self) -> None:
        self.count += 1
        self.page.keyboard.press("Enter")

    def type_and_enter(self, text: str) -> None:
        self.page.keyboard.type(text)  # typing on the keypad, not a tap
        self.enter()


def done_point(page, code: str, status: str = "visited") -> None:
    page.wait_for_selector(f"[data-testid=checkpoint-done][data-code={code}][data-status={status}]")


@pytest.mark.django_db(transaction=True)
def test_a_round_on_the_phone_raises_an_anomaly_that_opens_a_work_order_and_shows_in_analysis(
    phone, page, cast, sign_in
):
    # Given a route of three checkpoints with three readings each, whose anomalies open
    # a work order, and the engineer's round with its window open now
    route = fi.route(customer=cast.customer_a, points=3, items=THREE_READINGS,
                     anomaly_action="work_order")  # fmt: skip
    rnd = fi.round_for(route, cast.engineer)
    sign_in(phone, "engineer@t.example", f.PASSWORD)

    # When the engineer opens it from the phone list
    phone.goto("/inspections/m/")
    with phone.expect_navigation():
        phone.locator(
            f"[data-testid=my-round][data-round-id='{rnd.pk}'] [data-testid=open-round]"
        ).tap()
    phone.wait_for_selector("[data-testid=next-checkpoint][data-code=P01]")

    # ... records P01 with normal readings: one tap opens it, Enter moves on, the last saves
    first = Taps(phone)
    first.tap("[data-testid=next-checkpoint]")
    assert phone.evaluate("document.activeElement.getAttribute('inputmode')") == "decimal"
    for value in ("7", "10", "0.4"):
        first.type_and_enter(value)
    done_point(phone, "P01")
    assert first.count <= MAX_TAPS_PER_CHECKPOINT, first.count
    assert first.count == 4

    # ... P02 opens by itself; an out-of-range value turns red as it is typed
    phone.wait_for_selector("[data-checkpoint-panel][data-cp-code=P02]")
    second = Taps(phone)
    phone.keyboard.type("18.5")
    hot = phone.locator("[data-testid=item][data-out='1']")
    assert hot.count() == 1
    assert "reading-out" in (hot.locator("input").get_attribute("class") or "")
    second.enter()
    for value in ("10", "0.4"):
        second.type_and_enter(value)
    done_point(phone, "P02")
    assert second.count == 3

    # ... P03 cannot be reached: skipped with a reason
    phone.wait_for_selector("[data-checkpoint-panel][data-cp-code=P03]")
    phone.locator("[data-testid=skip-open]").tap()
    phone.locator("[data-testid=skip]").tap()  # no reason yet: refused in the page
    assert phone.locator("[data-skip-error]").inner_text().strip() != ""
    phone.select_option("[data-testid=skip-reason]", "no_access")
    phone.locator("[data-testid=skip]").tap()
    done_point(phone, "P03", "skipped")

    # ... and finishes the round: the screen shows its quality score
    phone.locator("[data-testid=finish]").tap()
    phone.wait_for_selector("[data-testid=result]:not(.d-none)")
    score = phone.locator("[data-testid=result-score]").inner_text().strip()
    assert score.isdigit()
    assert phone.js_errors == []

    # Then the round is completed with its visits, device timestamps and one anomaly
    rnd = Round.objects.get(pk=rnd.pk)
    assert rnd.status == RoundStatus.COMPLETED and rnd.quality_score is not None
    visits = {v.checkpoint.code: v for v in PointVisit.objects.filter(round=rnd)}
    assert visits["P03"].status == VisitStatus.SKIPPED and visits["P03"].skip_reason == "no_access"
    assert all(
        v.started_at and v.started_at <= v.recorded_at for c, v in visits.items() if c != "P03"
    )
    anomaly = Anomaly.objects.get(round=rnd)
    assert anomaly.checkpoint.code == "P02" and anomaly.value.startswith("18.5")
    # ... whose work order the route's rule opened
    assert anomaly.work_order_id is not None
    number = WorkOrder.objects.get(pk=anomaly.work_order_id).number

    # When a manager looks at the anomalies not handled yet
    sign_in(page, "manager@t.example", f.PASSWORD)
    page.goto("/inspections/anomalies/?status=unhandled")
    row = page.locator(f"[data-testid=anomaly-row][data-anomaly-id='{anomaly.pk}']")
    assert row.count() == 1
    assert row.locator("[data-testid=anomaly-status]").get_attribute("data-handled") == "no"
    assert number in row.locator("[data-testid=follow-up-work-order]").inner_text()

    # ... opens it: the work order is linked, and so is the round with the reading in red
    with page.expect_navigation():
        row.locator("a").first.click()
    link = page.locator("[data-testid=follow-up] [data-testid=follow-up-work-order]")
    assert link.get_attribute("data-number") == number
    with page.expect_navigation():
        page.locator("[data-testid=round-link]").click()
    assert page.locator("[data-testid=reading][data-abnormal]").count() == 1
    assert page.locator("[data-testid=quality-part]").count() == 5

    # ... and the daily analysis of that day counts the round and the anomaly for the route
    day = timezone.localdate(rnd.window_start).isoformat()
    page.goto(f"/inspections/analysis/?date_from={day}&date_to={day}")
    route_row = page.locator(f"[data-testid=route-row][data-route='{route.code}']")
    assert route_row.count() == 1
    assert route_row.locator("[data-field=completed_rounds]").inner_text().strip() == "1"
    assert route_row.locator("[data-field=anomalies]").inner_text().strip() == "1"
    assert page.js_errors == []


def qr_video(path, value: str, size: int = 480, frames: int = 5) -> None:
    """A Y4M clip of the tag's QR code, which Chromium plays as the phone's camera."""
    import segno

    rows = [list(r) for r in segno.make(value, error="m").matrix_iter(scale=1, border=4)]
    scale = (size * 3 // 4) // len(rows)
    side = scale * len(rows)
    top = (size - side) // 2
    luma = bytearray(b"\xff" * size * size)
    for y in range(side):
        row = rows[y // scale]
        start = (top + y) * size + top
        luma[start : start + side] = bytes(0 if row[x // scale] else 255 for x in range(side))
    chroma = b"\x80" * ((size // 2) * (size // 2))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{size} H{size} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)


@pytest.fixture
def camera_phone(chromium, live_server, tmp_path):
    """``camera_phone(value)``: a phone whose camera sees a QR tag holding ``value``."""
    from frontline.testing.browser import CHROMIUM, CHROMIUM_ARGS

    clips = {}

    def open_with(value: str):
        clip = tmp_path / "tag.y4m"
        qr_video(clip, value)
        browser = chromium.browser_type.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
                  "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={clip}"],
        )  # fmt: skip
        context = browser.new_context(
            base_url=live_server.url, locale="en-US", viewport={"width": 390, "height": 844},
            is_mobile=True, has_touch=True, permissions=["camera"],
        )  # fmt: skip
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        clips["browser"] = browser
        return page

    yield open_with
    if "browser" in clips:
        clips["browser"].close()


@pytest.mark.django_db(transaction=True)
def test_scanning_a_tag_with_the_camera_opens_its_checkpoint_and_counts_as_scanned(
    camera_phone, cast, sign_in
):
    # Given the engineer's round, and the phone's camera pointed at P02's tag
    route = fi.route(customer=cast.customer_a, points=3, items=THREE_READINGS)
    rnd = fi.round_for(route, cast.engineer)
    p2 = route.checkpoints.get(code="P02")
    phone = camera_phone(p2.qr_value)
    sign_in(phone, "engineer@t.example", f.PASSWORD)
    phone.goto(f"/inspections/m/rounds/{rnd.pk}/")
    phone.wait_for_selector("[data-testid=next-checkpoint][data-code=P01]")

    # When they tap Scan: the tag is read (jsQR on the video frames) and P02 opens
    taps = Taps(phone)
    taps.tap("[data-testid=scan]")
    phone.wait_for_selector("[data-checkpoint-panel][data-cp-code=P02]")
    assert phone.locator("[data-cp-scanned]").is_visible()
    # ... three readings and Enter: 4 taps in all
    assert phone.evaluate("document.activeElement.getAttribute('inputmode')") == "decimal"
    for value in ("7", "10", "0.4"):
        taps.type_and_enter(value)
    done_point(phone, "P02")
    assert taps.count == 4

    # Then the visit is stored as scanned (the server matched the tag's value), the camera is off
    visit = PointVisit.objects.get(round=rnd)
    assert visit.checkpoint_id == p2.pk and visit.scanned
    assert phone.locator("[data-scan-panel]").is_hidden()
    assert phone.js_errors == []


@pytest.mark.django_db(transaction=True)
def test_an_engineer_claims_an_offered_round_in_one_tap(phone, cast, sign_in):
    # Given a round on offer
    route = fi.route(customer=cast.customer_a, points=2, items=THREE_READINGS)
    rnd = fi.round_for(route, offered=True)
    sign_in(phone, "engineer@t.example", f.PASSWORD)
    phone.goto("/inspections/m/")

    # When the engineer taps Claim
    with phone.expect_navigation():
        phone.locator(
            f"[data-testid=offered-round][data-round-id='{rnd.pk}'] [data-testid=claim]"
        ).tap()

    # Then the round is theirs and its screen is open at the first checkpoint
    phone.wait_for_selector("[data-testid=next-checkpoint][data-code=P01]")
    assert Round.objects.get(pk=rnd.pk).assignee_id == cast.engineer.pk
    assert phone.js_errors == []


@pytest.mark.django_db(transaction=True)
def test_a_photo_item_is_taken_with_the_camera_input_and_uploaded_with_the_visit(
    phone, cast, sign_in, tmp_path, settings
):
    # Given a checkpoint with a reading and a photo of the gauge
    import segno

    settings.MEDIA_ROOT = tmp_path / "media"
    items = (THREE_READINGS[0], {"name": "压力表照片", "kind": ItemKind.PHOTO})
    route = fi.route(customer=cast.customer_a, points=1, items=items)
    rnd = fi.round_for(route, cast.engineer)
    picture = tmp_path / "gauge.png"
    segno.make("gauge").save(str(picture), kind="png", scale=8)
    sign_in(phone, "engineer@t.example", f.PASSWORD)
    phone.goto(f"/inspections/m/rounds/{rnd.pk}/")

    # When the engineer records the reading, takes the photo and saves
    phone.locator("[data-testid=next-checkpoint]").tap()
    phone.keyboard.type("9")
    photo = phone.locator("[data-testid=item-photo]")
    assert photo.get_attribute("capture") == "environment"
    assert photo.get_attribute("accept") == "image/*"
    photo.set_input_files(str(picture))
    phone.locator("[data-testid=save-next]").tap()
    done_point(phone, "P01")

    # Then the visit holds both, the photo stored with the reading (multipart upload)
    readings = {r.item.name: r for r in PointVisit.objects.get(round=rnd).readings.all()}
    assert readings["出水温度"].number == 9
    assert readings["压力表照片"].photo
    assert phone.js_errors == []


@pytest.mark.django_db(transaction=True)
def test_an_absurd_reading_is_refused_next_to_its_field_and_nothing_is_saved(phone, cast, sign_in):
    route = fi.route(customer=cast.customer_a, points=2, items=THREE_READINGS)
    rnd = fi.round_for(route, cast.engineer)
    sign_in(phone, "engineer@t.example", f.PASSWORD)
    phone.goto(f"/inspections/m/rounds/{rnd.pk}/")

    # When the engineer types an absurd first reading and saves
    phone.locator("[data-testid=next-checkpoint]").tap()
    for value in ("99999999999", "10", "0.4"):
        phone.keyboard.type(value)
        phone.keyboard.press("Enter")

    # Then the API's 400 names the item, shown under that field; nothing is stored
    first = phone.locator("[data-testid=item]").first
    error = first.locator("[data-testid=item-error]")
    error.wait_for(state="visible")
    assert "出水温度" in error.inner_text()
    assert "is-invalid" in (first.locator("input").get_attribute("class") or "")
    assert not PointVisit.objects.filter(round=rnd).exists()

    # When they correct it and save again, it is stored once
    first.locator("input").fill("8")
    phone.locator("[data-testid=save-next]").tap()
    done_point(phone, "P01")
    assert PointVisit.objects.filter(round=rnd).count() == 1
    assert phone.js_errors == []
