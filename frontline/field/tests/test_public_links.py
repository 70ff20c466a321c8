"""The tokenised pages that need no login: the visit timeline with ETA (/t/<token>/)
and the survey (/s/<token>/). Guessing, replaying, revoked or expired → 404; throttled."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from frontline.field import links, services
from frontline.field.models import PublicLink, Survey, WorkOrder
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_mobile import (  # noqa: F401 (fixture)
    FAR,
    _fresh_throttle,
    job,
    survey_token,
    timeline_token,
)

pytestmark = pytest.mark.django_db


def t_url(token):
    return reverse("field:public-timeline", args=[token])


def s_url(token):
    return reverse("field:public-survey", args=[token])


# ------------------------------------------------------------------ timeline


@pytest.fixture
def on_the_way(cast):
    wo = job(cast, step="en_route", title="冷机高压报警")
    eta = timezone.now() + dt.timedelta(minutes=40)
    WorkOrder.objects.filter(pk=wo.pk).update(eta=eta)
    wo.refresh_from_db()
    return wo


def test_the_link_shows_status_engineer_and_eta_without_login(client, cast, on_the_way):
    token = timeline_token(on_the_way)
    response = client.get(t_url(token))
    assert response.status_code == 200
    page = response.content.decode()
    assert cast.engineer.display_name in page and "冷机高压报警" in page
    assert timezone.localtime(on_the_way.eta).strftime("%H:%M") in page
    assert 'data-status="en_route"' in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert "no-store" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert '<meta name="referrer" content="no-referrer">' in page
    # No form that would POST from here (a POST with no referrer fails the CSRF check)
    assert "<form" not in page
    # No staff navigation, no customer email, no internal ids of people
    assert cast.engineer.email not in page and "/m/" not in page


def test_the_link_polls_for_a_fresh_eta(client, on_the_way):
    token = timeline_token(on_the_way)
    page = client.get(t_url(token)).content.decode()
    assert f'hx-get="{t_url(token)}"' in page and 'hx-trigger="every 60s"' in page
    # A position ping moves the ETA: the next poll shows the new one
    WorkOrder.objects.filter(pk=on_the_way.pk).update(eta=timezone.now() + dt.timedelta(minutes=90))
    partial = client.get(t_url(token), headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    new = WorkOrder.objects.get(pk=on_the_way.pk).eta
    assert timezone.localtime(new).strftime("%H:%M") in partial.content.decode()
    assert partial["Referrer-Policy"] == "no-referrer"


def test_a_position_ping_updates_the_eta_on_the_link(client, cast):
    wo = job(cast, step="en_route")
    token = timeline_token(wo)
    services.record_position(actor=cast.engineer, latitude=FAR[0], longitude=FAR[1])
    wo.refresh_from_db()
    assert wo.eta is not None
    page = client.get(t_url(token)).content.decode()
    assert timezone.localtime(wo.eta).strftime("%H:%M") in page
    assert 'data-event-kind="eta"' in page


@pytest.mark.parametrize(
    "token",
    ["x" * 43, "short", "A" * 200, "%2e%2e%2f" + "a" * 30, "' OR 1=1 --aaaaaaaaaaaaaaaaaaaa"],
)
def test_guessing_is_a_404(client, on_the_way, token):
    timeline_token(on_the_way)
    assert client.get(t_url(token)).status_code == 404


def test_revoked_expired_and_wrong_purpose_tokens_are_404(client, cast, on_the_way):
    revoked = timeline_token(on_the_way)
    links.revoke(actor=cast.dispatcher, work_order=on_the_way)
    expired = timeline_token(on_the_way)
    PublicLink.objects.filter(token_hash=links._hash(expired)).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    survey = survey_token(on_the_way)
    for token in (revoked, expired, survey):
        assert client.get(t_url(token)).status_code == 404


def test_customer_bs_token_shows_only_bs_visit(client, cast, on_the_way):
    b = job(cast, customer=cast.customer_b, title="B 公司机房巡检", eng=engineer())
    page = client.get(t_url(timeline_token(b))).content.decode()
    assert "B 公司机房巡检" in page
    assert "冷机高压报警" not in page and on_the_way.number not in page


def test_no_internal_data_leaks_on_the_link(client, cast):
    first = engineer()
    wo = job(cast, eng=first)
    services.reject(actor=first, work_order=wo, reason="内部原因：不想去")
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=engineer(user=cast.engineer))
    services.add_note(actor=cast.dispatcher, work_order=wo, body="内部备注：客户欠款")
    services.accept(actor=cast.engineer, work_order=wo)
    services.check_in(actor=cast.engineer, work_order=wo, latitude=FAR[0], longitude=FAR[1])
    page = client.get(t_url(timeline_token(wo))).content.decode()
    assert "内部备注" not in page and "内部原因" not in page
    assert "31.2304" not in page and "flagged" not in page
    assert 'data-event-kind="note"' not in page and 'data-event-kind="rejected"' not in page


@override_settings(FIELD_PUBLIC_RATE_PER_MINUTE=5)
def test_flooding_or_guessing_is_throttled_with_retry_after(client, on_the_way):
    token = timeline_token(on_the_way)
    for n in range(5):
        assert client.get(t_url("g" * 30 + str(n))).status_code == 404
    response = client.get(t_url(token))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another address is not held back
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert other.get(t_url(token)).status_code == 200


def test_the_link_runs_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    wo = job(cast, step="on_site")
    for n in range(10):
        services.set_appointment(
            actor=cast.dispatcher, work_order=wo, reason=f"改约 {n}",
            window_start=timezone.now() + dt.timedelta(hours=n + 1),
            window_end=timezone.now() + dt.timedelta(hours=n + 2),
        )  # fmt: skip
    token = timeline_token(wo)
    with django_assert_max_num_queries(4):
        response = client.get(t_url(token))
    assert response.content.decode().count('data-event-kind="appointment"') == 10


# ------------------------------------------------------------------ survey


@pytest.fixture
def closed(cast):
    wo = job(cast, step="closed", title="冷机检修完成")
    return wo, survey_token(wo)


def test_the_survey_asks_csat_nps_and_a_comment(client, cast, closed):
    wo, token = closed
    response = client.get(s_url(token))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="csat"' in page and 'name="nps"' in page and 'name="comment"' in page
    assert page.count('name="csat"') == 5 and page.count('name="nps"') == 11
    assert wo.number in page and cast.engineer.display_name in page
    # Same origin only (a POST needs its Origin for the CSRF check); never to other sites
    assert response["Referrer-Policy"] == "same-origin" and "noindex" in response["X-Robots-Tag"]
    assert '<meta name="referrer" content="same-origin">' in page


def test_answering_once_then_thank_you(client, cast, closed):
    wo, token = closed
    response = client.post(s_url(token), {"csat": "5", "nps": "9", "comment": "准时，专业"})
    assert response.status_code == 302
    assert response["Location"] == reverse("field:public-survey-thanks")
    survey = Survey.objects.get(work_order=wo)
    assert (survey.csat, survey.nps, survey.comment, survey.engineer) == (
        5, 9, "准时，专业", cast.engineer,
    )  # fmt: skip
    assert client.get(response["Location"]).status_code == 200
    # A second submit from the same browser: the "already answered" message
    again = client.post(s_url(token), {"csat": "1", "nps": "0"})
    assert again.status_code == 409
    assert "already answered" in again.content.decode()
    assert client.get(s_url(token)).status_code == 200
    # The used token anywhere else is a 404; the answer did not change
    assert Client().get(s_url(token)).status_code == 404
    assert Client().post(s_url(token), {"csat": "1", "nps": "0"}).status_code == 404
    survey.refresh_from_db()
    assert (survey.csat, survey.nps) == (5, 9)


def test_a_second_link_for_an_answered_visit_says_already_answered(client, closed):
    wo, token = closed
    second = survey_token(wo)
    assert client.post(s_url(token), {"csat": "4", "nps": "8"}).status_code == 302
    response = Client().post(s_url(second), {"csat": "1", "nps": "0"})
    assert response.status_code == 409 and "already answered" in response.content.decode()
    assert Client().get(s_url(second)).status_code == 200  # shows the message, no form
    assert Survey.objects.filter(work_order=wo).count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"csat": "0", "nps": "5"},
        {"csat": "6", "nps": "5"},
        {"csat": "3", "nps": "11"},
        {"csat": "3", "nps": "-1"},
        {"csat": "abc", "nps": "5"},
        {"nps": "5"},
        {"csat": "3", "nps": "5", "comment": "x" * 2001},
    ],
)
def test_out_of_range_answers_are_refused(client, closed, data):
    wo, token = closed
    response = client.post(s_url(token), data)
    assert response.status_code == 400
    assert not Survey.objects.filter(work_order=wo).exists()
    assert client.get(s_url(token)).status_code == 200  # the link still works


def test_expired_unknown_wrong_purpose_and_open_visit_surveys_are_404(client, cast, closed):
    wo, token = closed
    PublicLink.objects.filter(token_hash=links._hash(token)).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(s_url(token)).status_code == 404
    assert client.get(s_url("z" * 43)).status_code == 404
    assert client.get(s_url(timeline_token(wo))).status_code == 404
    still_open = job(cast, step="completed")
    assert client.get(s_url(survey_token(still_open))).status_code == 404
    assert client.post(s_url(survey_token(still_open)), {"csat": 5, "nps": 9}).status_code == 404
    assert not Survey.objects.exists()


def test_the_survey_needs_the_csrf_token(closed):
    _, token = closed
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(s_url(token), {"csat": "5", "nps": "9"}).status_code == 403
    assert not Survey.objects.exists()


@override_settings(FIELD_PUBLIC_RATE_PER_MINUTE=3)
def test_the_survey_is_throttled(client, closed):
    _, token = closed
    for _ in range(3):
        client.get(s_url("q" * 30))
    response = client.post(s_url(token), {"csat": "5", "nps": "9"})
    assert response.status_code == 429 and response.has_header("Retry-After")
    assert not Survey.objects.exists()


def test_a_hostile_comment_is_stored_as_text(client, closed):
    wo, token = closed
    evil = '"><script>alert(1)</script>{{7*7}}'
    assert client.post(s_url(token), {"csat": "3", "nps": "5", "comment": evil}).status_code == 302
    assert Survey.objects.get(work_order=wo).comment == evil
