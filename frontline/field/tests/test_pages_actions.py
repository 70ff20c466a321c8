"""Every action form on the work-order page: the happy path, and a refusal that shows the
service's message and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.field import services
from frontline.field.models import GrabOffer, WorkOrder, WorkOrderEvent
from frontline.field.tests.factories_pages import story, walk_on_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def s(cast):
    return story(cast)


def post(client, user, wo, verb, data=None, **kw):
    client.force_login(user)
    return client.post(reverse(f"field:work-order-{verb}", args=[wo.pk]), data or {}, **kw)


def fresh(wo):
    return WorkOrder.objects.get(pk=wo.pk)


def events(wo):
    return WorkOrderEvent.objects.filter(work_order=wo).count()


def refused(response, wo, before_status, before_events, message):
    """The page comes back with the message; the work order and its timeline are unchanged."""
    assert response.status_code in {400, 409}, response.status_code
    assert message in response.content.decode()
    assert fresh(wo).status == before_status
    assert events(wo) == before_events


# ---------------------------------------------------------------- dispatcher


def test_dispatch(client, cast, s):
    response = post(client, cast.dispatcher, s.wo_b, "dispatch",
                    {"dispatch-engineer": cast.engineer.pk})  # fmt: skip
    assert response.status_code == 302 and response["Location"] == s.wo_b.get_absolute_url()
    wo = fresh(s.wo_b)
    assert (wo.status, wo.assignee) == ("dispatched", cast.engineer)


def test_dispatch_to_someone_not_eligible_is_refused(client, cast, s):
    n = events(s.wo_b)
    response = post(client, cast.dispatcher, s.wo_b, "dispatch",
                    {"dispatch-engineer": cast.partner_engineer.pk})  # fmt: skip
    refused(response, s.wo_b, "new", n, "Select a valid choice")


def test_dispatch_page_offers_only_qualified_engineers(client, cast, s):
    client.force_login(cast.dispatcher)
    form = client.get(s.wo_b.get_absolute_url()).context["forms"]["dispatch"]
    assert list(form.fields["engineer"].queryset) == [cast.engineer]


def test_send_to_partner(client, cast, s):
    response = post(client, cast.dispatcher, s.wo_b, "send-to-partner",
                    {"partner-partner": cast.partner.pk})  # fmt: skip
    assert response.status_code == 302
    assert fresh(s.wo_b).partner == cast.partner


def test_send_to_partner_needs_an_outlet(client, cast, s):
    n = events(s.wo_b)
    response = post(client, cast.dispatcher, s.wo_b, "send-to-partner",
                    {"partner-partner": cast.customer_a.pk})  # fmt: skip
    refused(response, s.wo_b, "new", n, "Select a valid choice")
    assert fresh(s.wo_b).partner is None


def test_offer_and_withdraw(client, cast, s):
    response = post(client, cast.dispatcher, s.wo_b, "offer",
                    {"offer-expires_in_minutes": 45, "offer-radius_km": 100})  # fmt: skip
    assert response.status_code == 302
    assert fresh(s.wo_b).status == "offered"
    grab = GrabOffer.objects.get(work_order=s.wo_b)
    assert grab.radius_km == 100 and cast.engineer in grab.recipients.all()
    page = client.get(s.wo_b.get_absolute_url()).content.decode()
    assert 'data-testid="open-offer"' in page
    assert post(client, cast.dispatcher, s.wo_b, "withdraw-offer").status_code == 302
    assert fresh(s.wo_b).status == "new"


def test_offer_with_a_bad_expiry_is_refused(client, cast, s):
    n = events(s.wo_b)
    response = post(client, cast.dispatcher, s.wo_b, "offer", {"offer-expires_in_minutes": 0})
    refused(response, s.wo_b, "new", n, "Between 1 minute and 7 days.")
    assert not GrabOffer.objects.exists()


def test_withdraw_without_an_offer_is_a_conflict(client, cast, s):
    n = events(s.wo_b)
    response = post(client, cast.dispatcher, s.wo_b, "withdraw-offer")
    refused(response, s.wo_b, "new", n, "cannot become")


def test_set_appointment(client, cast, s):
    response = post(client, cast.dispatcher, s.wo_a, "appointment", {
        "appointment-window_start": "2026-12-01T09:00",
        "appointment-window_end": "2026-12-01T11:00", "appointment-reason": "客户要求",
    })  # fmt: skip
    assert response.status_code == 302
    wo = fresh(s.wo_a)
    assert wo.window_start is not None and wo.window_end > wo.window_start


def test_appointment_ending_before_it_starts_is_refused(client, cast, s):
    n = events(s.wo_a)
    response = post(client, cast.dispatcher, s.wo_a, "appointment", {
        "appointment-window_start": "2026-12-01T09:00",
        "appointment-window_end": "2026-12-01T08:00",
    })  # fmt: skip
    refused(response, s.wo_a, "dispatched", n, "The window must end after it starts.")
    assert fresh(s.wo_a).window_start is None


def test_hold_and_resume(client, cast, s):
    assert post(client, cast.dispatcher, s.wo_a, "hold", {"hold-reason": "缺件"}).status_code == 302
    assert fresh(s.wo_a).status == "on_hold"
    assert post(client, cast.dispatcher, s.wo_a, "resume").status_code == 302
    assert fresh(s.wo_a).status == "dispatched"


def test_hold_needs_a_reason(client, cast, s):
    n = events(s.wo_a)
    response = post(client, cast.dispatcher, s.wo_a, "hold", {"hold-reason": ""})
    refused(response, s.wo_a, "dispatched", n, "This field is required.")


def test_resume_when_not_on_hold_is_a_conflict(client, cast, s):
    n = events(s.wo_a)
    refused(post(client, cast.dispatcher, s.wo_a, "resume"), s.wo_a, "dispatched", n,
            "cannot become")  # fmt: skip


def test_cancel(client, cast, s):
    response = post(client, cast.dispatcher, s.wo_b, "cancel", {"cancel-reason": "客户取消"})
    assert response.status_code == 302 and fresh(s.wo_b).status == "cancelled"


def test_customer_may_not_cancel(client, cast, s):
    n = events(s.wo_a)
    response = post(client, cast.customer_a_admin, s.wo_a, "cancel", {"cancel-reason": "x"})
    assert response.status_code == 403
    assert fresh(s.wo_a).status == "dispatched" and events(s.wo_a) == n


def test_customer_of_another_company_gets_404(client, cast, s):
    n = events(s.wo_a)
    response = post(client, cast.customer_b_admin, s.wo_a, "cancel", {"cancel-reason": "x"})
    assert response.status_code == 404 and events(s.wo_a) == n


def test_close(client, cast, s):
    wo = walk_on_site(cast, s.wo_a)
    services.complete(actor=cast.engineer, work_order=wo, resolution_code="fixed")
    assert post(client, cast.dispatcher, s.wo_a, "close").status_code == 302
    assert fresh(s.wo_a).status == "closed"


def test_close_before_completion_is_a_conflict(client, cast, s):
    n = events(s.wo_a)
    refused(post(client, cast.dispatcher, s.wo_a, "close"), s.wo_a, "dispatched", n,
            "cannot become")  # fmt: skip


def test_note(client, cast, s):
    n = events(s.wo_a)
    assert (
        post(client, cast.dispatcher, s.wo_a, "note", {"note-body": "电话确认"}).status_code == 302
    )
    assert events(s.wo_a) == n + 1


def test_empty_note_is_refused(client, cast, s):
    n = events(s.wo_a)
    refused(post(client, cast.dispatcher, s.wo_a, "note", {"note-body": "  "}), s.wo_a,
            "dispatched", n, "This field is required.")  # fmt: skip


def test_send_timeline_link(client, cast, s):
    from frontline.notifications.models import OutboundEmail

    assert post(client, cast.dispatcher, s.wo_a, "timeline-link").status_code == 302
    assert WorkOrderEvent.objects.filter(work_order=s.wo_a, data__timeline_link_sent=True).exists()
    assert OutboundEmail.objects.filter(to=cast.customer_a_admin.email).exists()


def test_engineer_may_not_send_the_timeline_link(client, cast, s):
    n = events(s.wo_a)
    assert post(client, cast.engineer, s.wo_a, "timeline-link").status_code == 403
    assert events(s.wo_a) == n


def test_htmx_action_answers_with_the_page_partial(client, cast, s):
    response = post(client, cast.dispatcher, s.wo_a, "note", {"note-body": "htmx"},
                    HTTP_HX_REQUEST="true")  # fmt: skip
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text and "htmx" in text


def test_htmx_refusal_is_a_200_partial_with_the_error(client, cast, s):
    response = post(client, cast.dispatcher, s.wo_a, "close", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "cannot become" in response.content.decode()


# ---------------------------------------------------------------- partner outlet admin


def test_partner_admin_assigns_its_own_engineer(client, cast, s):
    response = post(client, cast.partner_admin, s.wo_partner, "dispatch",
                    {"dispatch-engineer": cast.partner_engineer.pk})  # fmt: skip
    assert response.status_code == 302
    wo = fresh(s.wo_partner)
    assert (wo.status, wo.assignee) == ("dispatched", cast.partner_engineer)


def test_partner_admin_may_not_cancel(client, cast, s):
    n = events(s.wo_partner)
    response = post(client, cast.partner_admin, s.wo_partner, "cancel", {"cancel-reason": "x"})
    assert response.status_code == 403 and events(s.wo_partner) == n


# ---------------------------------------------------------------- the engineer's own


def test_engineer_walks_the_order(client, cast, s):
    eng = cast.engineer
    assert post(client, eng, s.wo_a, "accept").status_code == 302
    assert post(client, eng, s.wo_a, "start-travel",
                {"travel-latitude": "31.21", "travel-longitude": "121.58"}).status_code == 302  # fmt: skip
    assert fresh(s.wo_a).status == "en_route"
    response = post(client, eng, s.wo_a, "check-in",
                    {"check_in-latitude": "31.2034", "check_in-longitude": "121.587"})  # fmt: skip
    assert response.status_code == 302 and fresh(s.wo_a).status == "on_site"
    response = post(client, eng, s.wo_a, "complete", {
        "complete-resolution_code": "replaced-fan", "complete-parts_used": "风机 1 台",
        "complete-first_time_fix": "true",
    })  # fmt: skip
    wo = fresh(s.wo_a)
    assert response.status_code == 302 and wo.status == "completed" and wo.first_time_fix


def test_check_in_without_a_position_is_refused(client, cast, s):
    services.accept(actor=cast.engineer, work_order=s.wo_a)
    n = events(s.wo_a)
    response = post(client, cast.engineer, s.wo_a, "check-in", {})
    refused(response, s.wo_a, "accepted", n, "Your position is needed here.")


def test_engineer_rejects_with_a_reason(client, cast, s):
    response = post(client, cast.engineer, s.wo_a, "reject", {"reject-reason": "不在区域"})
    assert response.status_code == 302
    wo = fresh(s.wo_a)
    assert wo.status == "rejected" and wo.assignee is None


def test_another_engineer_may_not_accept(client, cast, s):
    from frontline.field.tests.factories import engineer

    other = engineer()
    n = events(s.wo_a)
    assert post(client, other, s.wo_a, "accept").status_code == 403
    assert fresh(s.wo_a).status == "dispatched" and events(s.wo_a) == n


def test_actions_are_post_only(client, cast, s):
    client.force_login(cast.dispatcher)
    assert client.get(reverse("field:work-order-close", args=[s.wo_a.pk])).status_code == 405
