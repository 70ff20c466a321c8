"""Work orders API: the whole life over HTTP, bad input, filters, ordering and query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from frontline.desk.tests import factories as df
from frontline.field import services
from frontline.field.models import WorkOrder, WorkOrderEvent, WorkOrderPhoto
from frontline.field.states import WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_api import (
    AT_SITE,
    SIGNATURE,
    URL,
    checklist_for_repairs,
    client_for,
    field_engineer,
    hvac,
    order,
    png,
)
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
W = WorkOrderStatus


def _window(hours_from_now: int = 2, length: int = 2):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=hours_from_now)
    return start, start + dt.timedelta(hours=length)


# ---------------------------------------------------------------- the whole life


def test_a_work_order_goes_from_queue_to_closed_over_http(cast):
    # Given a qualified engineer, a repair checklist and customer A's site
    eng = field_engineer(cast, skills={hvac(): 3})
    checklist_for_repairs("检查压力", "清洁滤网")
    site = f.SiteFactory(customer=cast.customer_a)
    dispatcher, engineer_client = client_for(cast.dispatcher), client_for(eng)
    start, end = _window()

    # When the dispatcher opens it
    response = dispatcher.post(URL, {
        "title": "2# 冷机高压报警", "customer": cast.customer_a.pk, "site": site.pk,
        "priority": "high", "required_skills": [{"skill": "hvac", "min_level": 2}],
        "window_start": start.isoformat(), "window_end": end.isoformat(),
    }, format="json")  # fmt: skip

    # Then it waits in the queue with its skills and checklist
    assert response.status_code == 201, response.json()
    body = response.json()
    pk = body["id"]
    assert body["status"] == W.NEW and body["number"].startswith("W-")
    assert body["required_skills"] == [{"skill": "hvac", "skill_name": "暖通", "min_level": 2}]
    assert [item["label"] for item in body["checklist"]] == ["检查压力", "清洁滤网"]
    assert body["allowed_statuses"] == ["cancelled", "dispatched", "offered", "on_hold"]

    def act(client, verb, data=None, **kw):
        r = client.post(f"{URL}{pk}/{verb}/", data or {}, format=kw.get("format", "json"))
        assert r.status_code in {200, 201}, (verb, r.json())
        return r.json()

    assert act(dispatcher, "dispatch", {"engineer": eng.pk})["assignee"] == eng.pk
    assert act(engineer_client, "accept")["status"] == W.ACCEPTED
    assert (
        act(engineer_client, "start-travel", {"latitude": 31.2, "longitude": 121.5})["status"]
        == W.EN_ROUTE
    )
    checked_in = act(engineer_client, "check-in", AT_SITE)
    assert checked_in["status"] == W.ON_SITE and checked_in["check_in_flagged"] is False
    for item in checked_in["checklist"]:
        act(engineer_client, "checklist", {"item": item["id"], "result": "ok", "note": "正常"})
    photo = act(engineer_client, "photos", {"file": png(), "caption": "压力表"}, format="multipart")
    assert photo["download_url"] == f"/api/v1/work-order-photos/{photo['id']}/download/"
    assert (
        act(engineer_client, "sign", {"signature": SIGNATURE, "signed_by": "王工"})["signed_by"]
        == "王工"
    )
    done = act(engineer_client, "complete", {"resolution_code": "fixed", "parts_used": "滤网 x2"})
    assert done["status"] == W.COMPLETED and done["first_time_fix"] is True
    closed = act(dispatcher, "close")

    # Then it is closed, and its timeline tells the story in order
    assert closed["status"] == W.CLOSED and closed["allowed_statuses"] == []
    events = dispatcher.get(f"{URL}{pk}/events/").json()["results"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "created" and kinds[-1] == "closed"
    assert {"dispatched", "accepted", "en_route", "check_in", "photo", "signature",
            "completed"} <= set(kinds)  # fmt: skip
    assert [c["result"] for c in closed["checklist"]] == ["ok", "ok"]
    assert len(closed["photos"]) == 1


def test_the_photo_downloads_as_an_attachment_that_a_browser_will_not_render(cast):
    eng = field_engineer(cast)
    wo = order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    services.start_travel(actor=eng, work_order=wo)
    upload = png(name='"; filename=evil.html')
    photo = services.add_photo(actor=eng, work_order=wo, file=upload)

    response = client_for(cast.dispatcher).get(f"/api/v1/work-order-photos/{photo.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'evil.html"' not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_a_photo_retried_with_its_client_id_is_stored_once(cast):
    eng = field_engineer(cast)
    wo = order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    services.start_travel(actor=eng, work_order=wo)
    client = client_for(eng)
    payload = {"caption": "离线补传", "client_id": "7d3b7f0c-5a41-4f5e-9d7e-0d5f1b1f2a11"}

    first = client.post(f"{URL}{wo.pk}/photos/", {**payload, "file": png()}, format="multipart")
    again = client.post(f"{URL}{wo.pk}/photos/", {**payload, "file": png()}, format="multipart")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert WorkOrderPhoto.objects.filter(work_order=wo).count() == 1

    # the same client id on another order is refused, never answered with this photo
    other = order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=other, engineer=eng)
    services.accept(actor=eng, work_order=other)
    services.start_travel(actor=eng, work_order=other)
    reused = client.post(f"{URL}{other.pk}/photos/", {**payload, "file": png()}, format="multipart")
    assert reused.status_code == 400 and "client_id" in reused.json()["fields"]


def test_a_photo_that_is_not_an_image_is_refused(cast):
    eng = field_engineer(cast)
    wo = order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    services.start_travel(actor=eng, work_order=wo)
    from django.core.files.uploadedfile import SimpleUploadedFile

    svg = SimpleUploadedFile("x.png", b"<svg onload=alert(1)></svg>", content_type="image/png")
    response = client_for(eng).post(f"{URL}{wo.pk}/photos/", {"file": svg}, format="multipart")

    assert response.status_code == 400
    assert not WorkOrderPhoto.objects.exists()


# ---------------------------------------------------------------- illegal moves and bad input


def test_an_illegal_transition_is_a_409_listing_the_allowed_statuses(cast):
    wo = order(cast)

    response = client_for(cast.dispatcher).post(f"{URL}{wo.pk}/resume/", {}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert body["fields"]["status"] == ["cancelled", "dispatched", "offered", "on_hold"]
    wo.refresh_from_db()
    assert wo.status == W.NEW


def test_completing_before_check_in_is_a_409(cast):
    eng = field_engineer(cast)
    wo = order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)

    response = client_for(eng).post(f"{URL}{wo.pk}/complete/", {"resolution_code": "fixed"},
                                    format="json")  # fmt: skip

    assert response.status_code == 409 and response.json()["fields"]["status"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"title": ""}, "title"),
        ({"required_skills": [{"skill": "no-such-skill"}]}, "required_skills"),
        ({"required_skills": [{"skill": "hvac", "min_level": 9}]}, "required_skills"),
        ({"estimated_minutes": 2}, "estimated_minutes"),
        ({"window_start": "2026-12-01T10:00:00+08:00", "window_end": "2026-12-01T09:00:00+08:00"},
         "window_end"),
        ({"window_start": "2026-12-01T10:00:00+08:00"}, "window_end"),
        ({"priority": "asap"}, "priority"),
        ({"status": "closed"}, "status"),
        ({"assignee": 1}, "assignee"),
        ({"site": "1 OR 1=1"}, "site"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field_and_creates_nothing(cast, payload, field):
    hvac()
    site = f.SiteFactory(customer=cast.customer_a)
    body = {"title": "空调不制冷", "customer": cast.customer_a.pk, "site": site.pk, **payload}

    response = client_for(cast.dispatcher).post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not WorkOrder.objects.exists()


def test_a_work_order_without_site_ticket_or_asset_is_a_400_not_a_500(cast):
    # The fuzzer's find: leaving out ``site`` reached the service without the argument.
    response = client_for(cast.dispatcher).post(URL, {"title": "No such asset."}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert not WorkOrder.objects.exists()


def test_an_action_with_bad_input_names_the_field(cast):
    eng = field_engineer(cast)
    wo = order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    client = client_for(eng)

    missing = client.post(f"{URL}{wo.pk}/check-in/", {"latitude": 31.2}, format="json")
    off_earth = client.post(f"{URL}{wo.pk}/check-in/", {"latitude": 91, "longitude": 121},
                            format="json")  # fmt: skip
    no_reason = client.post(f"{URL}{wo.pk}/reject/", {"reason": ""}, format="json")

    assert missing.status_code == 400 and "longitude" in missing.json()["fields"]
    assert off_earth.status_code == 400 and "latitude" in off_earth.json()["fields"]
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    wo.refresh_from_db()
    assert wo.status == W.ACCEPTED


def _other_customers(cast):
    """Objects of customer B that a payload for customer A might point at."""
    site_b = f.SiteFactory(customer=cast.customer_b)
    return {
        "site": site_b,
        "project": f.ProjectFactory(customer=cast.customer_b),
        "asset": f.AssetFactory(site=site_b),
        "ticket": df.ticket_for(cast, customer=cast.customer_b),
        "revisit_of": order(cast, customer=cast.customer_b),
    }


@pytest.mark.parametrize("field", ["site", "project", "asset", "ticket", "revisit_of"])
def test_another_customers_object_in_the_payload_is_a_400_and_nothing_is_created(cast, field):
    theirs = _other_customers(cast)
    site_a = f.SiteFactory(customer=cast.customer_a)
    body = {"title": "串单", "customer": cast.customer_a.pk, "site": site_a.pk,
            field: theirs[field].pk}  # fmt: skip
    before = WorkOrder.objects.count()

    response = client_for(cast.dispatcher).post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert WorkOrder.objects.count() == before


def test_a_customer_cannot_open_a_work_order_nor_act_on_its_own(cast):
    wo = order(cast)
    client = client_for(cast.customer_a_admin)
    site = f.SiteFactory(customer=cast.customer_a)

    created = client.post(URL, {"title": "自己派单", "site": site.pk}, format="json")
    cancelled = client.post(f"{URL}{wo.pk}/cancel/", {"reason": "不要了"}, format="json")
    moved = client.post(f"{URL}{wo.pk}/appointment/", {"window_start": None, "window_end": None},
                        format="json")  # fmt: skip

    assert (created.status_code, cancelled.status_code, moved.status_code) == (403, 403, 403)
    assert WorkOrder.objects.count() == 1
    wo.refresh_from_db()
    assert wo.status == W.NEW


def test_an_agent_may_open_a_work_order_for_a_ticket_only(cast):
    ticket = df.ticket_for(cast)
    site = f.SiteFactory(customer=cast.customer_a)
    client = client_for(cast.agent)

    without = client.post(URL, {"title": "上门", "site": site.pk}, format="json")
    with_ticket = client.post(URL, {"title": "上门", "ticket": ticket.pk, "site": site.pk},
                              format="json")  # fmt: skip

    assert without.status_code == 403
    assert with_ticket.status_code == 201, with_ticket.json()
    assert with_ticket.json()["ticket_number"] == ticket.number


def test_no_delete_no_put(cast):
    wo = order(cast)
    client = client_for(cast.admin)
    assert client.delete(f"{URL}{wo.pk}/").status_code == 405
    assert client.put(f"{URL}{wo.pk}/", {}, format="json").status_code == 405
    assert client.patch(f"{URL}{wo.pk}/", {}, format="json").status_code == 405


def test_the_appointment_moves_and_the_customer_sees_it(cast):
    wo = order(cast)
    start, end = _window(24)

    response = client_for(cast.dispatcher).post(
        f"{URL}{wo.pk}/appointment/",
        {"window_start": start.isoformat(), "window_end": end.isoformat(), "reason": "客户改约"},
        format="json",
    )

    assert response.status_code == 200
    events = client_for(cast.customer_a_user).get(f"{URL}{wo.pk}/events/").json()["results"]
    assert events[-1]["kind"] == "appointment" and events[-1]["body"] == "客户改约"
    assert set(events[-1]["detail"]) == {"from", "until"}


def test_the_timeline_link_is_emailed_and_never_returned(cast):
    from frontline.notifications.models import OutboundEmail

    wo = order(cast)

    response = client_for(cast.dispatcher).post(f"{URL}{wo.pk}/timeline-link/", {}, format="json")

    assert response.status_code == 202
    assert set(response.json()) == {"code", "detail"}
    sent = OutboundEmail.objects.get(to=cast.customer_a_admin.email)
    assert "/t" in sent.body or "timeline" in sent.body
    refused = client_for(cast.engineer).post(f"{URL}{wo.pk}/timeline-link/", {}, format="json")
    assert refused.status_code == 403


def test_a_note_is_internal(cast):
    wo = order(cast)
    response = client_for(cast.dispatcher).post(f"{URL}{wo.pk}/note/", {"body": "客户难缠"},
                                                format="json")  # fmt: skip
    assert response.status_code == 201 and response.json()["public"] is False
    assert WorkOrderEvent.objects.filter(work_order=wo, kind="note").count() == 1


# ---------------------------------------------------------------- filters and ordering


@pytest.fixture
def spread(cast):
    """Orders in several states, customers, priorities and days."""
    eng = field_engineer(cast)
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    at = dt.datetime.combine(today, dt.time(10), tzinfo=tz)
    queued = order(cast, title="排队 A", priority="low")
    urgent = order(cast, title="紧急 B", priority="urgent", customer=cast.customer_b,
                   window_start=at, window_end=at + dt.timedelta(hours=2))  # fmt: skip
    mine = order(cast, title="我的 C", priority="high")
    services.dispatch(actor=cast.dispatcher, work_order=mine, engineer=eng)
    tomorrow = order(cast, title="明天 D", window_start=at + dt.timedelta(days=1),
                     window_end=at + dt.timedelta(days=1, hours=2))  # fmt: skip
    return {"queued": queued, "urgent": urgent, "mine": mine, "tomorrow": tomorrow, "eng": eng}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": ["new"]}, {"queued", "urgent", "tomorrow"}),
        ({"status": ["dispatched", "new"]}, {"queued", "urgent", "mine", "tomorrow"}),
        ({"priority": "urgent"}, {"urgent"}),
        ({"queue": "true"}, {"queued", "urgent", "tomorrow"}),
        ({"queue": "false"}, {"mine"}),
        ({"q": "紧急"}, {"urgent"}),
        ({"q": "我的"}, {"mine"}),
    ],
)
def test_the_list_filters(cast, spread, params, expected):
    response = client_for(cast.dispatcher).get(URL, params)
    assert response.status_code == 200, response.json()
    got = {row["id"] for row in response.json()["results"]}
    assert got == {spread[name].pk for name in expected}


def test_filters_by_day_customer_mine_and_number(cast, spread):
    eng_client = client_for(spread["eng"])
    dispatcher = client_for(cast.dispatcher)
    today = timezone.localdate().isoformat()

    assert [r["id"] for r in dispatcher.get(URL, {"day": today}).json()["results"]] == [
        spread["urgent"].pk
    ]
    by_customer = dispatcher.get(URL, {"customer": cast.customer_b.pk}).json()["results"]
    assert [r["id"] for r in by_customer] == [spread["urgent"].pk]
    assert [r["id"] for r in eng_client.get(URL, {"mine": "true"}).json()["results"]] == [
        spread["mine"].pk
    ]
    by_number = dispatcher.get(URL, {"q": spread["tomorrow"].number}).json()["results"]
    assert [r["id"] for r in by_number] == [spread["tomorrow"].pk]


def test_ordering_by_priority_means_its_rank(cast, spread):
    rows = client_for(cast.dispatcher).get(URL, {"ordering": "-priority"}).json()["results"]
    assert [r["priority"] for r in rows] == ["urgent", "high", "normal", "low"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"ordering": "title"}, "ordering"),
        ({"ordering": "assignee__password"}, "ordering"),
        ({"status": "nonsense"}, "status"),
        ({"queue": "maybe"}, "queue"),
        ({"day": "yesterday"}, "day"),
        ({"site": "1;drop"}, "site"),
        ({"owner": "1"}, "owner"),
        ({"page_size": "-1"}, "page_size"),
    ],
)
def test_a_bad_filter_is_a_400_never_a_500(cast, spread, params, field):
    response = client_for(cast.dispatcher).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


@pytest.mark.parametrize("param", ["assignee", "team", "partner", "queue", "mine"])
def test_a_customer_cannot_filter_by_what_it_does_not_see(cast, spread, param):
    response = client_for(cast.customer_a_user).get(URL, {param: "1"})
    assert response.status_code == 400 and param in response.json()["fields"]


def test_a_filter_cannot_probe_another_customers_site(cast, spread):
    site_b = spread["urgent"].site
    response = client_for(cast.customer_a_user).get(URL, {"site": site_b.pk})
    assert response.status_code == 400


# ---------------------------------------------------------------- query counts


def _orders(cast, n: int, eng):
    partner_eng = engineer(user=cast.partner_engineer)
    for i in range(n):
        wo = order(cast, title=f"批量 {i}", required_skills=[{"skill": "hvac", "min_level": 1}])
        if i % 3 == 0:
            services.send_to_partner(actor=cast.dispatcher, work_order=wo, partner=cast.partner)
            services.dispatch(actor=cast.partner_admin, work_order=wo, engineer=partner_eng)
        elif i % 3 == 1:
            services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)


@pytest.mark.parametrize("who", ["dispatcher", "customer_a_user", "partner_admin"])
def test_the_list_takes_a_fixed_number_of_queries(cast, who, django_assert_max_num_queries):
    skill = hvac()
    eng = field_engineer(cast, skills={skill: 3})
    engineer(user=cast.partner_engineer, skills={skill: 3})
    client = client_for(cast.by_role(who))
    _orders(cast, 3, eng)
    with django_assert_max_num_queries(12) as few:
        client.get(URL)
    _orders(cast, 24, eng)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    assert response.status_code == 200 and response.json()["count"] >= 9


@pytest.mark.parametrize("who", ["dispatcher", "customer_a_user"])
def test_the_detail_and_timeline_take_a_fixed_number_of_queries(
    cast, who, django_assert_max_num_queries
):
    eng = field_engineer(cast)
    checklist_for_repairs(*(f"项目 {i}" for i in range(20)))
    wo = order(cast)
    client = client_for(cast.by_role(who))
    with django_assert_max_num_queries(16) as few:
        client.get(f"{URL}{wo.pk}/")
        client.get(f"{URL}{wo.pk}/events/")
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    services.start_travel(actor=eng, work_order=wo)
    for i in range(5):
        services.add_photo(actor=eng, work_order=wo, file=png(), caption=f"照片 {i}")
        services.add_note(actor=cast.dispatcher, work_order=wo, body=f"内部 {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        detail = client.get(f"{URL}{wo.pk}/")
        client.get(f"{URL}{wo.pk}/events/")
    assert len(detail.json()["photos"]) == 5 and len(detail.json()["checklist"]) == 20


def test_search_finds_by_number_like_q(cast, spread):
    rows = client_for(cast.dispatcher).get(URL, {"search": spread["urgent"].number}).json()
    assert [r["id"] for r in rows["results"]] == [spread["urgent"].pk]
