"""Surveys and the public links: answered once, 404 for bad tokens, throttled, scoped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from frontline.field import links, services
from frontline.field.models import PublicLink, Survey
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_api import (
    SIGNATURE,
    client_for,
    field_engineer,
    on_site,
    order,
)

pytestmark = pytest.mark.django_db
SURVEYS = "/api/v1/surveys/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def closed(cast, eng, *, customer=None):
    wo = order(cast, customer=customer)
    on_site(cast, wo, eng)
    services.sign(actor=eng, work_order=wo, signature=SIGNATURE, signed_by="王工")
    services.complete(actor=eng, work_order=wo, resolution_code="fixed")
    return services.close(actor=cast.dispatcher, work_order=wo)


def survey_token(work_order) -> str:
    return links.issue(work_order, PublicLink.Purpose.SURVEY, days=14)


def answer(token, **body):
    return APIClient().post(f"/api/v1/public/surveys/{token}/", body or {"csat": 5, "nps": 9},
                            format="json")  # fmt: skip


# ---------------------------------------------------------------- public survey


def test_a_customer_answers_the_survey_once_without_logging_in(cast):
    eng = field_engineer(cast)
    wo = closed(cast, eng)
    token = survey_token(wo)

    first = answer(token, csat=4, nps=9, comment="师傅很专业")
    again = answer(token, csat=1, nps=0)

    assert first.status_code == 201 and set(first.json()) == {"code", "detail"}
    assert again.status_code == 404
    survey = Survey.objects.get(work_order=wo)
    assert (survey.csat, survey.nps, survey.engineer_id) == (4, 9, eng.pk)


@pytest.mark.parametrize("token", ["x" * 43, "short", "a" * 200, "../../etc/passwd"])
def test_a_guessed_token_is_a_404(cast, token):
    assert answer(token).status_code == 404
    assert APIClient().get(f"/api/v1/public/timeline/{token}/").status_code == 404


def test_an_expired_or_revoked_or_wrong_purpose_link_is_a_404(cast):
    eng = field_engineer(cast)
    wo = closed(cast, eng)
    expired, revoked = survey_token(wo), survey_token(wo)
    timeline = links.issue(wo, PublicLink.Purpose.TIMELINE, days=1)
    PublicLink.objects.filter(token_hash=links._hash(expired)).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    links.revoke(actor=cast.dispatcher, work_order=wo, purpose=PublicLink.Purpose.SURVEY)

    for token in (expired, revoked, timeline):
        assert answer(token).status_code == 404
    assert not Survey.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [({"csat": 6, "nps": 9}, "csat"), ({"csat": 5, "nps": -1}, "nps"), ({"csat": 5}, "nps"),
     ({"csat": 5, "nps": 9, "engineer": 1}, "engineer"),
     ({"csat": 5, "nps": 9, "comment": "x" * 2001}, "comment")],
)  # fmt: skip
def test_a_bad_answer_is_a_400_naming_the_field(cast, body, field):
    wo = closed(cast, field_engineer(cast))
    response = answer(survey_token(wo), **body)
    assert response.status_code == 400 and field in response.json()["fields"]
    assert not Survey.objects.exists()


def test_a_session_does_not_matter_to_the_public_endpoints(cast):
    # A signed-in customer posting from the browser needs no CSRF token and gets no extras.
    wo = closed(cast, field_engineer(cast))
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.customer_a_user)
    response = client.post(f"/api/v1/public/surveys/{survey_token(wo)}/", {"csat": 5, "nps": 10},
                           format="json")  # fmt: skip
    assert response.status_code == 201


def test_floods_are_throttled_with_retry_after(cast, settings):
    settings.FIELD_PUBLIC_RATE = "3/minute"
    client = APIClient()
    codes = [client.get(f"/api/v1/public/timeline/{'x' * 43}/").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    throttled = client.get(f"/api/v1/public/timeline/{'x' * 43}/")
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    # a spoofed X-Forwarded-For does not buy a fresh allowance
    spoofed = client.get(f"/api/v1/public/timeline/{'x' * 43}/", HTTP_X_FORWARDED_FOR="10.9.8.7")
    assert spoofed.status_code == 429


def test_answers_are_throttled_harder_than_reads(cast, settings):
    settings.FIELD_PUBLIC_ANSWER_RATE = "2/minute"
    codes = [answer("y" * 43).status_code for _ in range(3)]
    assert codes == [404, 404, 429]


# ---------------------------------------------------------------- public timeline


def test_the_timeline_link_shows_status_engineer_and_public_events_only(cast):
    eng = field_engineer(cast)
    wo = order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.add_note(actor=cast.dispatcher, work_order=wo, body="内部：这家客户很难缠")
    services.accept(actor=eng, work_order=wo)
    services.start_travel(actor=eng, work_order=wo, latitude=31.1, longitude=121.4)
    token = links.issue(wo, PublicLink.Purpose.TIMELINE, days=30)

    response = APIClient().get(f"/api/v1/public/timeline/{token}/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "en_route" and body["engineer_name"] == eng.display_name
    assert body["eta"] is not None
    kinds = [e["kind"] for e in body["events"]]
    assert kinds[:2] == ["created", "dispatched"] and "note" not in kinds
    assert "难缠" not in str(body) and eng.email not in str(body)
    assert not {"latitude", "longitude", "data", "author"} & set(body["events"][0])


def test_a_reassignment_shows_the_new_engineer_by_name_never_by_email(cast):
    first = field_engineer(cast)
    nameless = engineer()
    nameless.display_name = ""
    nameless.save()
    wo = order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=first)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=nameless)
    token = links.issue(wo, PublicLink.Purpose.TIMELINE, days=30)

    body = APIClient().get(f"/api/v1/public/timeline/{token}/").json()

    assert body["events"][-1]["kind"] == "reassigned"
    assert "@" not in str(body)
    assert body["engineer_name"] and body["events"][-1]["detail"]["engineer_name"]


# ---------------------------------------------------------------- the surveys list


@pytest.fixture
def answered(cast):
    eng = field_engineer(cast)
    other = engineer()
    wo_a = closed(cast, eng)
    wo_b = closed(cast, other, customer=cast.customer_b)
    services.submit_survey(token=survey_token(wo_a), csat=5, nps=10, comment="很好")
    services.submit_survey(token=survey_token(wo_b), csat=2, nps=3)
    return {"a": Survey.objects.get(work_order=wo_a), "b": Survey.objects.get(work_order=wo_b),
            "eng": eng, "other": other}  # fmt: skip


@pytest.mark.parametrize(
    "who, sees",
    [("dispatcher", "ab"), ("analyst", "ab"), ("customer_a_admin", "a"),
     ("customer_b_admin", "b"), ("outsider", ""), ("supplier_contact", "")],
)  # fmt: skip
def test_who_sees_which_survey(cast, answered, who, sees):
    client = client_for(cast.by_role(who))
    listed = {row["id"] for row in client.get(SURVEYS).json()["results"]}
    assert listed == {answered[k].pk for k in sees}
    for key in "ab":
        expected = 200 if key in sees else 404
        assert client.get(f"{SURVEYS}{answered[key].pk}/").status_code == expected


def test_a_customer_reads_its_survey_without_the_engineers_id(cast, answered):
    body = client_for(cast.customer_a_admin).get(f"{SURVEYS}{answered['a'].pk}/").json()
    assert "engineer" not in body and body["engineer_name"] == answered["eng"].display_name


def test_surveys_filter_by_engineer_work_order_and_dates(cast, answered):
    client = client_for(cast.dispatcher)
    today = timezone.localdate()

    by_engineer = client.get(SURVEYS, {"engineer": answered["other"].pk}).json()["results"]
    by_order = client.get(SURVEYS, {"work_order": answered["a"].work_order_id}).json()["results"]
    from_tomorrow = client.get(SURVEYS, {"submitted_from": today + dt.timedelta(days=1)})
    until_today = client.get(SURVEYS, {"submitted_to": today}).json()["results"]

    assert [r["id"] for r in by_engineer] == [answered["b"].pk]
    assert [r["id"] for r in by_order] == [answered["a"].pk]
    assert from_tomorrow.json()["results"] == []
    assert len(until_today) == 2
    assert client.get(SURVEYS, {"ordering": "comment"}).status_code == 400


def test_a_customer_cannot_filter_surveys_by_engineer_or_probe_other_orders(cast, answered):
    client = client_for(cast.customer_a_admin)
    assert client.get(SURVEYS, {"engineer": answered["eng"].pk}).status_code == 400
    probe = client.get(SURVEYS, {"work_order": answered["b"].work_order_id})
    assert probe.status_code == 400


def test_surveys_are_not_created_through_the_list(cast, answered):
    response = client_for(cast.dispatcher).post(SURVEYS, {"work_order": 1, "csat": 5, "nps": 9},
                                                format="json")  # fmt: skip
    assert response.status_code == 405


def test_the_survey_list_takes_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    eng = field_engineer(cast)
    client = client_for(cast.dispatcher)

    def more(n):
        for i in range(n):
            wo = order(cast, title=f"回访 {i}")
            Survey.objects.create(work_order=wo, engineer=eng, csat=4, nps=8)

    more(2)
    with django_assert_max_num_queries(8) as few:
        client.get(SURVEYS)
    more(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(SURVEYS)
    assert response.json()["count"] == 22
