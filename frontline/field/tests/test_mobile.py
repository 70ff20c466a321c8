"""The engineer's phone view: today's jobs, one job's steps, through the services.

Given an engineer with jobs at different steps; when they tap through the pages; then
the work order moves exactly as the services say, and a refused step changes nothing
and says why on the page.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from frontline.field.models import ChecklistItem, WorkOrder, WorkOrderEvent
from frontline.field.states import ChecklistResult, WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_mobile import FAR, NEAR, PNG, checklist_template, job

pytestmark = pytest.mark.django_db
W = WorkOrderStatus


def url(name, wo):
    return reverse(f"field:mobile-{name}", args=[wo.pk])


def events(wo):
    return list(WorkOrderEvent.objects.filter(work_order=wo).values_list("kind", flat=True))


# ------------------------------------------------------------------ who may open it


@pytest.mark.parametrize(
    "role", ["dispatcher", "agent", "analyst", "customer_a_admin", "supplier_contact", "outsider"]
)
def test_people_who_do_no_field_work_find_no_mobile_pages(client, cast, role):
    wo = job(cast)
    client.force_login(cast.by_role(role))
    for target in [reverse("field:mobile-today"), reverse("field:mobile-offers"), url("job", wo)]:
        assert client.get(target).status_code == 404
    assert client.post(url("accept", wo)).status_code == 404
    wo.refresh_from_db()
    assert wo.status == W.DISPATCHED


def test_anonymous_visitors_are_sent_to_sign_in(client, cast):
    wo = job(cast)
    for target in [reverse("field:mobile-today"), url("job", wo)]:
        response = client.get(target)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_another_engineers_job_is_404_on_every_page_and_post(client, cast):
    # Given a job dispatched to another engineer (same company) and one to a partner
    other = engineer()
    theirs = job(cast, eng=other)
    partner_job = job(cast, eng=cast.partner_engineer)
    # When our engineer opens or acts on them
    client.force_login(cast.engineer)
    for wo in (theirs, partner_job):
        assert client.get(url("job", wo)).status_code == 404
        assert client.post(url("accept", wo)).status_code == 404
        assert client.post(url("reject", wo), {"reject-reason": "busy"}).status_code == 404
    # Then nothing changed
    theirs.refresh_from_db()
    assert theirs.status == W.DISPATCHED and theirs.assignee == other
    for bad in ["abc", "0", "99999999999999999999"]:
        assert client.get(f"/m/jobs/{bad}/").status_code == 404


def test_a_partner_engineer_sees_only_their_own_jobs(client, cast):
    mine = job(cast, eng=cast.partner_engineer, title="网点工单")
    job(cast, title="运营方工单")
    client.force_login(cast.partner_engineer)
    page = client.get(reverse("field:mobile-today")).content.decode()
    assert "网点工单" in page and "运营方工单" not in page
    assert client.get(url("job", mine)).status_code == 200


# ------------------------------------------------------------------ today


def test_today_lists_my_jobs_in_route_order_with_customer_site_window_and_eta(client, cast):
    # Given three jobs of mine planned in route order 2, 1, 3, one of someone else's,
    # one done, and one planned for tomorrow
    base = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    second = job(cast, title="第二站")
    first = job(cast, title="第一站")
    third = job(cast, title="第三站")
    for wo, pos in [(second, 2), (first, 1), (third, 3)]:
        WorkOrder.objects.filter(pk=wo.pk).update(
            route_position=pos, planned_start=base + dt.timedelta(hours=pos), eta=base
        )
    job(cast, eng=engineer(), title="别人的")
    job(cast, step="completed", title="已完成")
    tomorrow = job(cast, title="明天的")
    WorkOrder.objects.filter(pk=tomorrow.pk).update(planned_start=base + dt.timedelta(days=1))
    client.force_login(cast.engineer)

    response = client.get(reverse("field:mobile-today"))

    assert response.status_code == 200
    titles = [j.title for j in response.context["jobs"]]
    assert titles == ["第一站", "第二站", "第三站"]
    page = response.content.decode()
    assert cast.customer_a.name in page and first.site.address in page
    assert "09:00–12:00" in page
    assert 'data-testid="done-count"' in page
    assert "别人的" not in page and "明天的" not in page


def test_navigation_links_are_built_from_the_site_coordinates(client, cast):
    wo = job(cast)
    client.force_login(cast.engineer)
    page = client.get(url("job", wo)).content.decode()
    assert 'href="geo:31.203400,121.587000?q=31.203400,121.587000(' in page
    assert "https://uri.amap.com/navigation?to=121.587000%2C31.203400%2C" in page
    assert "https://api.map.baidu.com/marker?location=31.203400%2C121.587000" in page
    assert "coordinate=wgs84" in page and "coord_type=wgs84" in page


def test_a_site_without_coordinates_gets_no_navigation_link(client, cast):
    wo = job(cast)
    type(wo.site).objects.filter(pk=wo.site_id).update(latitude=None, longitude=None)
    client.force_login(cast.engineer)
    page = client.get(url("job", wo)).content.decode()
    assert "geo:" not in page and "amap" not in page


def test_today_runs_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    for _ in range(6):
        job(cast)
    client.force_login(cast.engineer)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("field:mobile-today"))
    assert len(response.context["jobs"]) == 6


def test_the_job_page_runs_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    checklist_template([f"项目 {i}" for i in range(12)])
    wo = job(cast, step="on_site")
    client.force_login(cast.engineer)
    with django_assert_max_num_queries(12):
        response = client.get(url("job", wo))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="checklist-item"') == 12


# ------------------------------------------------------------------ steps


def test_accept_then_on_my_way_with_a_position(client, cast):
    wo = job(cast)
    client.force_login(cast.engineer)
    page = client.get(url("job", wo)).content.decode()
    assert 'data-testid="accept"' in page and 'data-testid="bar-accept"' in page

    response = client.post(url("accept", wo))
    assert response.status_code == 302 and response["Location"] == url("job", wo)
    wo.refresh_from_db()
    assert wo.status == W.ACCEPTED

    response = client.post(url("travel", wo), {"latitude": FAR[0], "longitude": FAR[1]})
    assert response.status_code == 302
    wo.refresh_from_db()
    assert wo.status == W.EN_ROUTE and wo.eta is not None
    page = client.get(url("job", wo)).content.decode()
    # While en route the page pings the position API and offers the check-in
    assert 'data-ping-url="/api/v1/engineers/me/position/"' in page
    assert 'data-geo="required"' in page and 'data-testid="bar-check-in"' in page


def test_reject_needs_a_reason_and_then_gives_the_job_back(client, cast):
    wo = job(cast)
    client.force_login(cast.engineer)
    response = client.post(url("reject", wo), {"reject-reason": ""})
    assert response.status_code == 400
    assert 'data-testid="form-error"' in response.content.decode()
    wo.refresh_from_db()
    assert wo.status == W.DISPATCHED

    response = client.post(url("reject", wo), {"reject-reason": "车坏了"})
    assert response.status_code == 302 and response["Location"] == reverse("field:mobile-today")
    wo.refresh_from_db()
    assert wo.status == W.REJECTED and wo.assignee is None
    # No longer mine: the job page is gone
    assert client.get(url("job", wo)).status_code == 404


def test_an_illegal_step_shows_the_reason_and_changes_nothing(client, cast):
    # Given a job that is only dispatched (not accepted)
    wo = job(cast)
    before = events(wo)
    client.force_login(cast.engineer)
    # When the engineer tries to complete it and to check in before accepting... complete
    response = client.post(
        url("complete", wo), {"resolution_code": "fixed", "latitude": "", "longitude": ""}
    )
    # Then the page says why, with a 409, and nothing moved
    assert response.status_code == 409
    assert "cannot become" in response.content.decode()
    wo.refresh_from_db()
    assert wo.status == W.DISPATCHED and events(wo) == before


def test_check_in_needs_a_position(client, cast):
    wo = job(cast, step="en_route")
    client.force_login(cast.engineer)
    response = client.post(url("check-in", wo), {"latitude": "", "longitude": ""})
    assert response.status_code == 400
    assert "Your position is needed here." in response.content.decode()
    wo.refresh_from_db()
    assert wo.status == W.EN_ROUTE


@pytest.mark.parametrize("bad", [("abc", "121.5"), ("91", "121.5"), ("31.2", "181"), ("nan", "1")])
def test_check_in_with_a_garbage_position_is_refused(client, cast, bad):
    wo = job(cast, step="en_route")
    client.force_login(cast.engineer)
    response = client.post(url("check-in", wo), {"latitude": bad[0], "longitude": bad[1]})
    assert response.status_code == 400
    wo.refresh_from_db()
    assert wo.status == W.EN_ROUTE and wo.checked_in_at is None


def test_check_in_near_the_site_is_not_flagged(client, cast):
    wo = job(cast, step="en_route")
    client.force_login(cast.engineer)
    response = client.post(url("check-in", wo), {"latitude": NEAR[0], "longitude": NEAR[1]})
    assert response.status_code == 302 and response["Location"].endswith("#checklist")
    wo.refresh_from_db()
    assert wo.status == W.ON_SITE and wo.check_in_flagged is False


def test_check_in_far_from_the_site_is_allowed_but_flagged(client, cast):
    wo = job(cast, step="en_route")
    client.force_login(cast.engineer)
    response = client.post(
        url("check-in", wo), {"latitude": FAR[0], "longitude": FAR[1]}, follow=True
    )
    wo.refresh_from_db()
    assert wo.status == W.ON_SITE and wo.check_in_flagged is True
    assert wo.check_in_distance_m > 5000
    page = response.content.decode()
    assert 'data-testid="far-check-in"' in page and "dispatcher will see" in page


def test_the_checklist_takes_ok_not_ok_and_na_with_a_note(client, cast):
    checklist_template(["电源已断开", "压力正常", "外观"])
    wo = job(cast, step="on_site")
    items = list(ChecklistItem.objects.filter(work_order=wo))
    client.force_login(cast.engineer)
    for item, result in zip(items, ["ok", "failed", "na"], strict=True):
        response = client.post(
            url("checklist", wo), {"item": item.pk, "result": result, "note": f"备注 {result}"}
        )
        assert response.status_code == 302
    stored = {i.pk: (i.result, i.note) for i in ChecklistItem.objects.filter(work_order=wo)}
    assert stored[items[0].pk] == ("ok", "备注 ok")
    assert stored[items[1].pk] == ("failed", "备注 failed")
    assert stored[items[2].pk] == ("na", "备注 na")


def test_the_checklist_refuses_pending_unknown_items_and_other_jobs_items(client, cast):
    checklist_template(["电源已断开"])
    wo = job(cast, step="on_site")
    other = job(cast, step="on_site")
    foreign = ChecklistItem.objects.get(work_order=other)
    client.force_login(cast.engineer)
    assert (
        client.post(url("checklist", wo), {"item": foreign.pk, "result": "ok"}).status_code == 400
    )
    item = ChecklistItem.objects.get(work_order=wo)
    assert (
        client.post(url("checklist", wo), {"item": item.pk, "result": "pending"}).status_code == 400
    )
    foreign.refresh_from_db()
    item.refresh_from_db()
    assert foreign.result == item.result == ChecklistResult.PENDING


def test_complete_needs_every_checklist_item_answered(client, cast):
    checklist_template(["电源已断开"])
    wo = job(cast, step="on_site")
    client.force_login(cast.engineer)
    response = client.post(url("complete", wo), {"resolution_code": "fixed"})
    assert response.status_code == 400
    assert "Answer every checklist item first" in response.content.decode()
    wo.refresh_from_db()
    assert wo.status == W.ON_SITE


def test_sign_and_complete(client, cast):
    wo = job(cast, step="on_site")
    client.force_login(cast.engineer)
    response = client.post(url("sign", wo), {"signature": PNG, "signed_by": "李经理"})
    assert response.status_code == 302
    wo.refresh_from_db()
    assert wo.signed_by == "李经理" and wo.signature.name.endswith(".png")
    response = client.post(
        url("complete", wo),
        {"resolution_code": "part_replaced", "resolution_notes": "更换压力传感器",
         "parts_used": "压力传感器 x1", "first_time_fix": "no",
         "latitude": NEAR[0], "longitude": NEAR[1]},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == reverse("field:mobile-today")
    wo.refresh_from_db()
    assert wo.status == W.COMPLETED
    assert (wo.resolution_code, wo.parts_used, wo.first_time_fix) == (
        "part_replaced", "压力传感器 x1", False,
    )  # fmt: skip
    assert wo.check_out_latitude is not None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a data url",
        "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
        "data:image/png;base64,!!!not-base64!!!",
        "data:image/png;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",  # <script> as "PNG"
    ],
)
def test_signature_garbage_is_refused(client, cast, garbage):
    wo = job(cast, step="on_site")
    client.force_login(cast.engineer)
    response = client.post(url("sign", wo), {"signature": garbage, "signed_by": "李经理"})
    assert response.status_code == 400
    assert 'data-testid="form-error"' in response.content.decode()
    wo.refresh_from_db()
    assert wo.signed_at is None and not wo.signature


def test_signing_before_check_in_is_refused(client, cast):
    wo = job(cast, step="accepted")
    client.force_login(cast.engineer)
    response = client.post(url("sign", wo), {"signature": PNG, "signed_by": "李经理"})
    assert response.status_code == 409
    wo.refresh_from_db()
    assert wo.signed_at is None


def test_an_engineer_puts_their_own_job_on_hold_with_a_reason(client, cast):
    wo = job(cast, step="on_site")
    client.force_login(cast.engineer)
    assert client.post(url("hold", wo), {"hold-reason": ""}).status_code == 400
    response = client.post(url("hold", wo), {"hold-reason": "缺少备件"})
    assert response.status_code == 302
    wo.refresh_from_db()
    assert wo.status == W.ON_HOLD


def test_posts_need_the_csrf_token(cast):
    from django.test import Client

    wo = job(cast)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.engineer)
    assert client.post(url("accept", wo)).status_code == 403
    wo.refresh_from_db()
    assert wo.status == W.DISPATCHED


def test_hostile_titles_and_site_names_are_escaped(client, cast):
    evil = '"><script>alert(1)</script>'
    wo = job(cast, title=evil)
    type(wo.site).objects.filter(pk=wo.site_id).update(name=evil, address=evil)
    client.force_login(cast.engineer)
    for target in [reverse("field:mobile-today"), url("job", wo)]:
        page = client.get(target).content.decode()
        assert "<script>alert(1)" not in page
