"""Engineers, offers and position pings over the API; who may dispatch to whom."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from frontline.accounts.roles import OrganizationKind, Role
from frontline.field import services
from frontline.field.models import Certification, PositionPing, WorkOrder
from frontline.field.states import WorkOrderStatus
from frontline.field.tests.factories import certify, engineer
from frontline.field.tests.factories_api import (
    URL,
    client_for,
    field_engineer,
    hvac,
    order,
)
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
W = WorkOrderStatus
ENGINEERS = "/api/v1/engineers/"
ME = "/api/v1/engineers/me/"
POSITION = "/api/v1/engineers/me/position/"


def _certified_skill():
    skill = f.SkillFactory(code="hv", name="高压", requires_certification=True)
    return skill


# ---------------------------------------------------------------- position pings


def test_a_position_ping_is_idempotent_by_client_id(cast):
    eng = field_engineer(cast)
    client = client_for(eng)
    ping = {"latitude": 31.21, "longitude": 121.55, "accuracy_m": 12,
            "client_id": str(uuid.uuid4())}  # fmt: skip

    first = client.post(POSITION, ping, format="json")
    again = client.post(POSITION, ping, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert PositionPing.objects.filter(user=eng).count() == 1
    me = client.get(ME).json()["engineer"]
    assert me["last_latitude"] == "31.210000" and me["last_position_at"]


def test_another_engineers_client_id_is_refused_not_answered(cast):
    eng = field_engineer(cast)
    other = engineer()
    ping = {"latitude": 31.21, "longitude": 121.55, "client_id": str(uuid.uuid4())}
    assert client_for(eng).post(POSITION, ping, format="json").status_code == 201

    response = client_for(other).post(POSITION, {**ping, "latitude": 30.0}, format="json")

    assert response.status_code == 400 and "client_id" in response.json()["fields"]
    assert PositionPing.objects.filter(user=other).count() == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"latitude": 91, "longitude": 121}, "latitude"),
        ({"latitude": 31}, "longitude"),
        ({"latitude": "NaN", "longitude": 121}, "latitude"),
        ({"latitude": 31, "longitude": 121, "client_id": "not-a-uuid"}, "client_id"),
        ({"latitude": 31, "longitude": 121, "recorded_at": "2999-01-01T00:00:00Z"},
         "recorded_at"),
        ({"latitude": 31, "longitude": 121, "user": 1}, "user"),
    ],
)  # fmt: skip
def test_a_bad_ping_is_a_400_naming_the_field(cast, body, field):
    eng = field_engineer(cast)
    response = client_for(eng).post(POSITION, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not PositionPing.objects.exists()


@pytest.mark.parametrize("who", ["customer_a_user", "dispatcher", "outsider"])
def test_only_field_workers_send_positions(cast, who):
    response = client_for(cast.by_role(who)).post(
        POSITION, {"latitude": 31, "longitude": 121}, format="json"
    )
    assert response.status_code == 403
    assert not PositionPing.objects.exists()


# ---------------------------------------------------------------- profiles


def test_me_shows_my_profile_and_todays_jobs_in_route_order(cast):
    eng = field_engineer(cast)
    second, first, later = order(cast, title="第二站"), order(cast, title="第一站"), order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=second, engineer=eng, route_position=2)
    services.dispatch(actor=cast.dispatcher, work_order=first, engineer=eng, route_position=1)
    tomorrow = timezone.now() + dt.timedelta(days=1)
    services.dispatch(actor=cast.dispatcher, work_order=later, engineer=eng, planned_start=tomorrow)

    body = client_for(eng).get(ME).json()

    assert body["engineer"]["id"] == eng.pk
    assert [job["title"] for job in body["jobs"]] == ["第一站", "第二站"]


def test_me_is_a_404_without_a_profile(cast):
    assert client_for(cast.dispatcher).get(ME).status_code == 404


def test_an_expired_certification_takes_the_skill_away(cast):
    skill = _certified_skill()
    eng = field_engineer(cast, skills={skill: 4, hvac(): 2})
    certify(eng, skill, expires_in_days=-1)
    certify(eng, skill, expires_in_days=-30, name="旧证")

    body = client_for(cast.dispatcher).get(f"{ENGINEERS}{eng.pk}/").json()

    assert [s["skill"] for s in body["skills"]] == ["hvac"]
    assert [c["valid"] for c in body["certifications"]] == [False, False]
    assert body["today"] is not None and body["daily_capacity_minutes"] == 420


def test_a_partner_admin_sees_only_the_outlets_engineers(cast):
    ours = field_engineer(cast)
    theirs = engineer(user=cast.partner_engineer)
    other_outlet = f.OrganizationFactory(kind=OrganizationKind.PARTNER)
    elsewhere = engineer(role=Role.PARTNER_ENGINEER, organization=other_outlet)
    client = client_for(cast.partner_admin)

    listed = {row["id"] for row in client.get(ENGINEERS).json()["results"]}

    assert listed == {theirs.pk}
    assert client.get(f"{ENGINEERS}{ours.pk}/").status_code == 404
    assert client.get(f"{ENGINEERS}{elsewhere.pk}/").status_code == 404
    staff = {row["id"] for row in client_for(cast.dispatcher).get(ENGINEERS).json()["results"]}
    assert staff == {ours.pk, theirs.pk, elsewhere.pk}


@pytest.mark.parametrize("who", ["customer_a_admin", "outsider", "supplier_contact"])
def test_outsiders_see_no_engineer(cast, who):
    eng = field_engineer(cast)
    client = client_for(cast.by_role(who))
    assert client.get(ENGINEERS).json()["results"] == []
    assert client.get(f"{ENGINEERS}{eng.pk}/").status_code == 404


def test_the_engineer_list_shows_survey_averages(cast):
    eng = field_engineer(cast)
    from frontline.field.models import Survey

    for csat, nps in ((5, 10), (3, 6)):
        wo = order(cast)
        Survey.objects.create(work_order=wo, engineer=eng, csat=csat, nps=nps)

    row = client_for(cast.dispatcher).get(ENGINEERS).json()["results"][0]

    assert (row["csat_avg"], row["nps_avg"], row["survey_count"]) == (4.0, 8.0, 2)


def test_the_engineer_list_takes_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    skill, hv = hvac(), _certified_skill()
    client = client_for(cast.dispatcher)

    def more(n):
        for _ in range(n):
            eng = engineer(skills={skill: 3, hv: 2})
            certify(eng, hv)

    more(3)
    with django_assert_max_num_queries(12) as few:
        client.get(ENGINEERS)
    more(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(ENGINEERS)
    assert response.json()["count"] == 23
    assert all(len(row["skills"]) == 2 for row in response.json()["results"])


# ---------------------------------------------------------------- partner dispatch


@pytest.fixture
def outlet_order(cast):
    wo = order(cast, title="网点单")
    services.send_to_partner(actor=cast.dispatcher, work_order=wo, partner=cast.partner)
    return wo


def test_a_partner_admin_dispatches_to_the_outlets_engineer(cast, outlet_order):
    theirs = engineer(user=cast.partner_engineer)

    response = client_for(cast.partner_admin).post(
        f"{URL}{outlet_order.pk}/dispatch/", {"engineer": theirs.pk}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["assignee"] == theirs.pk
    assert WorkOrder.objects.get(pk=outlet_order.pk).dispatched_via == "partner"


def test_a_partner_admin_cannot_dispatch_to_an_operator_or_another_outlets_engineer(
    cast, outlet_order
):
    ours = field_engineer(cast)
    other_outlet = f.OrganizationFactory(kind=OrganizationKind.PARTNER)
    elsewhere = engineer(role=Role.PARTNER_ENGINEER, organization=other_outlet)
    client = client_for(cast.partner_admin)

    for eng in (ours, elsewhere):
        response = client.post(f"{URL}{outlet_order.pk}/dispatch/", {"engineer": eng.pk},
                               format="json")  # fmt: skip
        assert response.status_code == 400 and "engineer" in response.json()["fields"]
    wo = WorkOrder.objects.get(pk=outlet_order.pk)
    assert (wo.status, wo.assignee_id) == (W.NEW, None)


def test_a_partner_admin_cannot_dispatch_the_operators_own_orders(cast):
    engineer(user=cast.partner_engineer)
    wo = order(cast)  # not sent to the outlet: the partner does not even see it
    response = client_for(cast.partner_admin).post(
        f"{URL}{wo.pk}/dispatch/", {"engineer": cast.partner_engineer.pk}, format="json"
    )
    assert response.status_code == 404


def test_the_dispatcher_cannot_give_an_outlets_order_to_an_operator_engineer(cast, outlet_order):
    ours = field_engineer(cast)
    response = client_for(cast.dispatcher).post(
        f"{URL}{outlet_order.pk}/dispatch/", {"engineer": ours.pk}, format="json"
    )
    assert response.status_code == 400 and "engineer" in response.json()["fields"]


# ---------------------------------------------------------------- certifications and offers


def test_an_expired_certification_refuses_dispatch_with_the_reason(cast):
    skill = _certified_skill()
    eng = field_engineer(cast, skills={skill: 3})
    certify(eng, skill, expires_in_days=-1)
    wo = order(cast, required_skills=[{"skill": skill, "min_level": 2}])

    response = client_for(cast.dispatcher).post(
        f"{URL}{wo.pk}/dispatch/", {"engineer": eng.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "not_qualified"
    assert "engineer" in response.json()["fields"]
    assert WorkOrder.objects.get(pk=wo.pk).status == W.NEW


def test_a_certification_that_expires_after_the_offer_makes_the_claim_a_409(cast):
    skill = _certified_skill()
    eng = field_engineer(cast, skills={skill: 3})
    cert = certify(eng, skill)
    wo = order(cast, required_skills=[{"skill": skill, "min_level": 2}])
    offered = client_for(cast.dispatcher).post(f"{URL}{wo.pk}/offer/", {"radius_km": 100},
                                               format="json")  # fmt: skip
    assert offered.status_code == 201, offered.json()
    Certification.objects.filter(pk=cert.pk).update(
        expires_on=timezone.localdate() - dt.timedelta(days=1)
    )

    response = client_for(eng).post(f"{URL}{wo.pk}/claim/", {}, format="json")

    assert response.status_code == 409 and response.json()["code"] == "not_eligible"
    assert WorkOrder.objects.get(pk=wo.pk).status == W.OFFERED


def test_an_engineer_lists_open_offers_and_the_first_claim_wins(cast):
    eng, rival = field_engineer(cast), engineer()
    wo = order(cast, title="抢单")
    grab = services.offer(actor=cast.dispatcher, work_order=wo, radius_km=100)
    mine = client_for(eng)

    offers = mine.get("/api/v1/offers/").json()["results"]
    assert [(o["id"], o["work_order"]["title"]) for o in offers] == [(grab.pk, "抢单")]
    assert offers[0]["distance_km"] is not None and offers[0]["expires_at"]

    won = mine.post(f"/api/v1/offers/{grab.pk}/claim/", {}, format="json")
    lost = client_for(rival).post(f"/api/v1/offers/{grab.pk}/claim/", {}, format="json")

    assert won.status_code == 200 and won.json()["assignee"] == eng.pk
    assert won.json()["status"] == W.ACCEPTED
    assert lost.status_code == 409 and lost.json()["code"] == "offer_taken"
    assert mine.get("/api/v1/offers/").json()["results"] == []


def test_an_offer_not_made_to_you_is_not_yours_to_claim(cast):
    engineer(user=cast.partner_engineer)
    field_engineer(cast)
    wo = order(cast)
    grab = services.offer(actor=cast.dispatcher, work_order=wo)

    response = client_for(cast.partner_engineer).post(f"/api/v1/offers/{grab.pk}/claim/", {},
                                                      format="json")  # fmt: skip

    assert response.status_code == 404
    assert WorkOrder.objects.get(pk=wo.pk).status == W.OFFERED


def test_a_claim_without_an_offer_is_a_409_and_withdraw_returns_it_to_the_queue(cast):
    eng = field_engineer(cast)
    wo = order(cast)
    client = client_for(eng)
    assert client.post(f"{URL}{wo.pk}/claim/", {}, format="json").json()["code"] == "offer_closed"
    grab = services.offer(actor=cast.dispatcher, work_order=wo)

    withdrawn = client_for(cast.dispatcher).post(f"{URL}{wo.pk}/withdraw-offer/", {},
                                                 format="json")  # fmt: skip
    late = client.post(f"{URL}{wo.pk}/claim/", {"offer": grab.pk}, format="json")

    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == W.NEW
    assert late.status_code == 409 and late.json()["code"] == "offer_expired"


def test_an_offer_answers_with_the_offer(cast):
    field_engineer(cast)
    wo = order(cast)
    response = client_for(cast.dispatcher).post(f"{URL}{wo.pk}/offer/",
                                                {"expires_in_minutes": 15}, format="json")  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert body["work_order"] == wo.pk and body["status"] == "open"
    assert body["recipients_count"] == 1


def test_an_offer_nobody_can_take_is_a_400_with_the_reason(cast):
    wo = order(cast, required_skills=[{"skill": _certified_skill(), "min_level": 5}])
    response = client_for(cast.dispatcher).post(f"{URL}{wo.pk}/offer/", {}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "no_eligible_engineer"


def test_the_offer_list_takes_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    eng = field_engineer(cast, skills={hvac(): 3})
    client = client_for(eng)

    def more(n):
        for i in range(n):
            wo = order(cast, title=f"抢单 {i}", required_skills=[{"skill": "hvac"}])
            services.offer(actor=cast.dispatcher, work_order=wo, radius_km=100)

    more(2)
    with django_assert_max_num_queries(10) as few:
        client.get("/api/v1/offers/")
    more(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/offers/")
    assert response.json()["count"] == 22
