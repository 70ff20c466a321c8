"""The engineer's phone pages for rounds: the list (mine first, in progress on top; on
offer; recently finished) and one round's screen with its data for the script. Only
engineers use them; a round that is not theirs to do is a 404."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from frontline.inspections.models import PointVisit
from frontline.inspections.states import RoundStatus
from frontline.inspections.tests import factories as fi
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

LIST_MAX = 12
SCREEN_MAX = 14


@pytest.fixture
def route_a(cast):
    return fi.route(customer=cast.customer_a, points=3)


def page_data(response, name="round-data") -> dict:
    body = response.content.decode()
    found = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', body, re.S)
    assert found, f"no {name} on the page"
    return json.loads(found.group(1))


def test_the_list_shows_mine_in_progress_first_offers_and_finished(
    client, cast, route_a, django_assert_max_num_queries
):
    # Given a scheduled and an in-progress round of the engineer's, one on offer, one
    # finished, and one of another engineer's
    later = fi.round_for(route_a, cast.engineer, opens=timezone.now() + dt.timedelta(hours=3))
    doing = fi.round_for(route_a, cast.engineer, status=RoundStatus.IN_PROGRESS)
    offered = fi.round_for(route_a, offered=True)
    finished = fi.round_for(
        route_a, cast.engineer, opens=timezone.now() - dt.timedelta(hours=5),
        status=RoundStatus.COMPLETED, quality_score=Decimal("91"),
    )  # fmt: skip
    someone = f.member("engineer", cast.operator, email="e2@t.example")
    theirs = fi.round_for(route_a, someone)
    client.force_login(cast.engineer)

    # When they open the phone list
    with django_assert_max_num_queries(LIST_MAX):
        response = client.get(reverse("inspections:mobile-rounds"))

    # Then theirs are listed, in progress first; the offer has a claim button
    body = response.content.decode()
    assert response.status_code == 200
    mine = re.findall(r'data-testid="my-round" data-round-id="(\d+)"', body)
    assert mine == [str(doing.pk), str(later.pk)]
    assert f'data-testid="offered-round" data-round-id="{offered.pk}"' in body
    assert f"/api/v1/rounds/{offered.pk}/claim/" in body
    assert 'data-testid="finished-round"' in body and "91" in body
    assert f'data-round-id="{theirs.pk}"' not in body
    assert f'data-round-id="{finished.pk}"' not in body.split('data-testid="finished-rounds"')[0]


def test_the_round_screen_carries_checkpoints_items_and_api_urls(
    client, cast, route_a, django_assert_max_num_queries
):
    # Given the engineer's round with P01 already recorded
    rnd = fi.round_for(route_a, cast.engineer, status=RoundStatus.IN_PROGRESS)
    p1 = route_a.checkpoints.get(code="P01")
    PointVisit.objects.create(round=rnd, checkpoint=p1, recorded_at=timezone.now())
    client.force_login(cast.engineer)

    # When they open it
    with django_assert_max_num_queries(SCREEN_MAX):
        response = client.get(reverse("inspections:mobile-round", args=[rnd.pk]))

    # Then the script gets the checkpoints in order with their items and ranges
    assert response.status_code == 200
    data = page_data(response)
    assert [cp["code"] for cp in data["checkpoints"]] == ["P01", "P02", "P03"]
    assert data["checkpoints"][0]["done"]["status"] == "visited"
    assert data["checkpoints"][1]["done"] is None
    first = data["checkpoints"][1]["items"][0]
    assert (first["kind"], first["min"], first["max"], first["unit"]) == ("number", "5", "12", "°C")
    assert data["urls"]["visits"] == f"/api/v1/rounds/{rnd.pk}/visits/"
    assert data["urls"]["finish"] == f"/api/v1/rounds/{rnd.pk}/finish/"
    # ... the tags' values are not on the page, only their digests
    body = response.content.decode()
    assert p1.qr_value not in body
    assert data["checkpoints"][0]["qr"] == hashlib.sha256(p1.qr_value.encode()).hexdigest()
    # ... and the words, translated by the page
    assert page_data(response, "round-strings")["out_of_range"]
    # ... the number fields are built by round.js (loaded as a file, no inline script)
    assert "inspections/round.js" in body and "vendor/jsqr/jsQR.js" in body


def test_an_offered_round_can_be_opened_to_claim_it(client, cast, route_a):
    rnd = fi.round_for(route_a, offered=True)
    client.force_login(cast.engineer)

    response = client.get(reverse("inspections:mobile-round", args=[rnd.pk]))

    assert response.status_code == 200
    assert page_data(response)["round"]["offered"] is True


def test_another_engineer_s_round_is_a_404(client, cast, route_a):
    someone = f.member("engineer", cast.operator, email="e2@t.example")
    rnd = fi.round_for(route_a, someone)
    client.force_login(cast.engineer)

    assert client.get(reverse("inspections:mobile-round", args=[rnd.pk])).status_code == 404
    assert client.get(reverse("inspections:mobile-round", args=["x"])).status_code == 404


@pytest.mark.parametrize(
    "role", ["manager", "analyst", "customer_a_admin", "customer_b_admin", "outsider"]
)
def test_people_who_do_not_walk_rounds_get_404(client, cast, route_a, role):
    rnd = fi.round_for(route_a, cast.engineer)
    client.force_login(cast.by_role(role))

    assert client.get(reverse("inspections:mobile-rounds")).status_code == 404
    assert client.get(reverse("inspections:mobile-round", args=[rnd.pk])).status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(reverse("inspections:mobile-rounds"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
