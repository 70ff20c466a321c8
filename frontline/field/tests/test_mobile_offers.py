"""The grab offers on the phone: the engineer sees what was offered to them and claims it;
a late, expired or ineligible claim is a 409 that says why."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from frontline.field.models import GrabOffer
from frontline.field.states import OfferStatus, WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_mobile import offered
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
W = WorkOrderStatus


def claim(client, grab):
    return client.post(reverse("field:mobile-claim", args=[grab.pk]))


def the_offer(wo) -> GrabOffer:
    return GrabOffer.objects.get(work_order=wo)


def test_the_list_shows_only_open_offers_made_to_me(client, cast):
    other = engineer()
    mine = offered(cast)
    not_mine = offered(cast, engineers=[other])
    client.force_login(cast.engineer)
    response = client.get(reverse("field:mobile-offers"))
    assert response.status_code == 200
    ids = [g.work_order_id for g in response.context["offers"]]
    assert ids == [mine.pk] and not_mine.pk not in ids
    page = response.content.decode()
    assert 'data-testid="claim"' in page and mine.site.name in page


def test_claiming_makes_the_job_mine_and_opens_it(client, cast):
    wo = offered(cast)
    client.force_login(cast.engineer)
    response = claim(client, the_offer(wo))
    assert response.status_code == 302
    assert response["Location"] == reverse("field:mobile-job", args=[wo.pk])
    wo.refresh_from_db()
    assert wo.status == W.ACCEPTED and wo.assignee == cast.engineer
    assert client.get(reverse("field:mobile-offers")).context["offers"] == []


def test_a_late_claim_is_a_409_that_says_someone_else_took_it(client, cast):
    rival = engineer()
    wo = offered(cast, engineers=[cast.engineer, rival])
    client.force_login(rival)
    assert claim(client, the_offer(wo)).status_code == 302
    client.force_login(cast.engineer)
    response = claim(client, the_offer(wo))
    assert response.status_code == 409
    assert response.context["claim_code"] == "offer_taken"
    assert "Someone else already took this work." in response.content.decode()
    wo.refresh_from_db()
    assert wo.assignee == rival


def test_an_expired_offer_is_a_409(client, cast):
    wo = offered(cast)
    GrabOffer.objects.filter(work_order=wo).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    client.force_login(cast.engineer)
    response = claim(client, the_offer(wo))
    assert response.status_code == 409 and response.context["claim_code"] == "offer_expired"
    wo.refresh_from_db()
    assert wo.status == W.OFFERED and wo.assignee is None


def test_an_offer_not_made_to_me_is_a_409(client, cast):
    wo = offered(cast, engineers=[engineer()])
    engineer(user=cast.engineer)
    client.force_login(cast.engineer)
    response = claim(client, the_offer(wo))
    assert response.status_code == 409 and response.context["claim_code"] == "not_offered"
    wo.refresh_from_db()
    assert wo.assignee is None


def test_an_engineer_who_lost_the_skill_is_not_eligible(client, cast):
    # Given an offer that needs a certified skill, made while my certificate was valid
    from frontline.accounts.models import EngineerSkill
    from frontline.field import services
    from frontline.field.tests.factories import certify

    skill = f.SkillFactory(code="hv", requires_certification=True)
    engineer(user=cast.engineer, skills={skill: 3})
    cert = certify(cast.engineer, skill)
    wo = services.create_work_order(
        actor=cast.dispatcher, title="高压柜检修", site=f.SiteFactory(customer=cast.customer_a),
        required_skills=[{"skill": skill, "min_level": 1}],
    )  # fmt: skip
    services.offer(actor=cast.dispatcher, work_order=wo, pool=[cast.engineer])
    # When the certificate has expired before the claim
    type(cert).objects.filter(pk=cert.pk).update(
        expires_on=timezone.localdate() - dt.timedelta(days=1)
    )
    client.force_login(cast.engineer)
    response = claim(client, the_offer(wo))
    # Then the claim is refused as not eligible, and the offer stays open
    assert response.status_code == 409 and response.context["claim_code"] == "not_eligible"
    assert the_offer(wo).status == OfferStatus.OPEN
    assert EngineerSkill.objects.filter(user=cast.engineer).exists()


def test_unknown_or_garbage_offer_ids(client, cast):
    engineer(user=cast.engineer)
    client.force_login(cast.engineer)
    assert client.post("/m/offers/abc/claim/").status_code == 404
    assert client.post("/m/offers/999999/claim/").status_code == 409
    assert client.get(reverse("field:mobile-claim", args=[1])).status_code == 405


@pytest.mark.parametrize("role", ["dispatcher", "customer_a_admin", "outsider"])
def test_people_who_do_no_field_work_cannot_claim(client, cast, role):
    wo = offered(cast)
    client.force_login(cast.by_role(role))
    assert claim(client, the_offer(wo)).status_code == 404
    assert the_offer(wo).status == OfferStatus.OPEN


def test_the_offers_list_runs_a_fixed_number_of_queries(
    client, cast, django_assert_max_num_queries
):
    for _ in range(5):
        offered(cast)
    client.force_login(cast.engineer)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("field:mobile-offers"))
    assert len(response.context["offers"]) == 5
