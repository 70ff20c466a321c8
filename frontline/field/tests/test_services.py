"""Field services: validation, dispatch rules of who may take what, offers, execution."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from frontline.accounts.roles import Role
from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.desk.models import TicketEvent
from frontline.desk.tests.factories import TicketFactory
from frontline.field import services
from frontline.field.engineers import effective_skills, eligible_engineers
from frontline.field.models import (
    ChecklistTemplate,
    GrabOffer,
    Leave,
    PositionPing,
    WorkOrder,
    WorkOrderEvent,
)
from frontline.field.states import OfferStatus, WorkOrderStatus
from frontline.field.tests.factories import certify, engineer
from frontline.notifications.models import Notification
from frontline.testing import factories as f

W = WorkOrderStatus
pytestmark = pytest.mark.django_db


def _order(cast, **kw):
    site = kw.pop("site", None) or f.SiteFactory(customer=cast.customer_a)
    return services.create_work_order(actor=cast.dispatcher, title="冷站巡检跟进", site=site, **kw)


def _on_site(cast, eng, **kw):
    wo = _order(cast, **kw)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    return services.check_in(actor=eng, work_order=wo, latitude="31.2034", longitude="121.587")


# ---------------------------------------------------------------- creation


def test_create_refuses_another_customers_site_and_bad_windows(cast):
    other_site = f.SiteFactory(customer=cast.customer_b)
    start = timezone.now()
    with pytest.raises(ValidationFailed) as exc:
        services.create_work_order(
            actor=cast.dispatcher, title="x", site=other_site, customer=cast.customer_a,
            window_start=start, window_end=start - dt.timedelta(hours=1),
            required_skills=[{"skill": "no-such-skill", "min_level": 2}],
        )  # fmt: skip
    assert {"site", "window_end", "required_skills"} <= set(exc.value.fields)
    assert not WorkOrder.objects.exists()


@pytest.mark.parametrize("who", ["engineer", "customer_a_admin", "partner_admin", "outsider"])
def test_only_dispatchers_create(cast, who):
    with pytest.raises(PermissionDenied):
        _order(cast, **{}) if who == "dispatcher" else services.create_work_order(
            actor=cast.by_role(who), title="x", site=f.SiteFactory(customer=cast.customer_a)
        )
    assert not WorkOrder.objects.exists()


def test_from_a_ticket_defaults_and_shows_on_its_timeline(cast):
    ticket = TicketFactory(customer=cast.customer_a, owner=cast.agent)
    site = f.SiteFactory(customer=cast.customer_a)
    wo = services.create_work_order(actor=cast.agent, title="上门检修", site=site, ticket=ticket)
    assert wo.customer_id == cast.customer_a.pk
    event = TicketEvent.objects.get(ticket=ticket, kind="work_order")
    assert event.public and event.data["number"] == wo.number


def test_checklist_comes_from_the_types_template(cast):
    ChecklistTemplate.objects.create(type="repair", items="确认故障\n\n排除故障\n试运行")
    wo = _order(cast, type="repair")
    assert list(wo.checklist.values_list("label", flat=True)) == ["确认故障", "排除故障", "试运行"]


# ---------------------------------------------------------------- skills and certifications


def test_an_expired_certification_takes_the_skill_away(cast):
    hv = f.SkillFactory(code="hv", requires_certification=True)
    eng = engineer(user=cast.engineer, skills={hv: 4})
    today = timezone.localdate()
    assert effective_skills([eng.pk], today)[eng.pk] == {}
    cert = certify(eng, hv, expires_in_days=10)
    assert effective_skills([eng.pk], today)[eng.pk] == {hv.pk: 4}
    assert effective_skills([eng.pk], today + dt.timedelta(days=11))[eng.pk] == {}
    cert.expires_on = today - dt.timedelta(days=1)
    cert.save()
    wo = _order(cast, required_skills=[{"skill": hv, "min_level": 3}])
    with pytest.raises(ValidationFailed) as exc:
        services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    assert exc.value.code == "not_qualified"
    assert WorkOrder.objects.get(pk=wo.pk).assignee is None


def test_eligibility_respects_radius_leave_and_level(cast):
    hvac = f.SkillFactory(code="hvac")
    near = engineer(skills={hvac: 3}, at=(31.21, 121.58))
    far = engineer(skills={hvac: 3}, at=(39.9, 116.4))  # Beijing
    engineer(skills={hvac: 1}, at=(31.21, 121.58))  # level too low
    away = engineer(skills={hvac: 5}, at=(31.21, 121.58))
    today = timezone.localdate()
    Leave.objects.create(user=away, first_day=today, last_day=today)
    wo = _order(cast, required_skills=[{"skill": hvac, "min_level": 2}])
    assert eligible_engineers(wo) == [near]
    assert set(eligible_engineers(wo, radius_km=2000)) == {near, far}  # not the junior, not away


# ---------------------------------------------------------------- offers


def test_offer_expires_back_to_the_queue_once(cast):
    engineer(user=cast.engineer)
    wo = _order(cast)
    grab = services.offer(actor=cast.dispatcher, work_order=wo, expires_in_minutes=5)
    later = timezone.now() + dt.timedelta(minutes=6)
    assert services.expire_offers(now=later) == 1
    assert services.expire_offers(now=later) == 0
    wo.refresh_from_db()
    grab.refresh_from_db()
    assert wo.status == W.NEW and grab.status == OfferStatus.EXPIRED
    assert WorkOrderEvent.objects.filter(work_order=wo, kind="offer_expired").count() == 1
    assert (
        Notification.objects.filter(
            recipient=cast.dispatcher, kind="work_order_offer_expired"
        ).count()
        == 1
    )
    with pytest.raises(Conflict) as exc:
        services.claim_offer(actor=cast.engineer, offer_id=grab.pk)
    assert exc.value.code == "offer_expired"


def test_claims_by_strangers_and_after_reassignment_are_409(cast):
    eng = engineer(user=cast.engineer)
    outsider = engineer(at=(39.9, 116.4))  # too far: not offered
    wo = _order(cast)
    grab = services.offer(actor=cast.dispatcher, work_order=wo)
    with pytest.raises(Conflict) as exc:
        services.claim_offer(actor=outsider, offer_id=grab.pk)
    assert exc.value.code == "not_offered"
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    assert GrabOffer.objects.get(pk=grab.pk).status == OfferStatus.WITHDRAWN
    with pytest.raises(Conflict):
        services.claim_offer(actor=eng, offer_id=grab.pk)


def test_offer_with_nobody_eligible_is_refused_and_changes_nothing(cast):
    wo = _order(cast)
    with pytest.raises(ValidationFailed) as exc:
        services.offer(actor=cast.dispatcher, work_order=wo)
    assert exc.value.code == "no_eligible_engineer"
    assert WorkOrder.objects.get(pk=wo.pk).status == W.NEW and not GrabOffer.objects.exists()


# ---------------------------------------------------------------- partner outlets


def test_partner_admin_assigns_only_its_own_engineers(cast):
    own = engineer(user=cast.partner_engineer)
    operator_eng = engineer(user=cast.engineer)
    other_outlet = f.OrganizationFactory(kind="partner", name="杭州网点")
    stranger = engineer(role=Role.PARTNER_ENGINEER, organization=other_outlet)
    wo = _order(cast)
    with pytest.raises(PermissionDenied):
        services.dispatch(actor=cast.partner_admin, work_order=wo, engineer=own)
    services.send_to_partner(actor=cast.dispatcher, work_order=wo, partner=cast.partner)
    for wrong in (operator_eng, stranger):
        with pytest.raises(ValidationFailed):
            services.dispatch(actor=cast.partner_admin, work_order=wo, engineer=wrong)
    wo = services.dispatch(actor=cast.partner_admin, work_order=wo, engineer=own)
    assert wo.assignee == own and wo.dispatched_via == "partner"
    assert list(WorkOrder.objects.visible_to(cast.partner_engineer)) == [wo]
    assert not WorkOrder.objects.visible_to(cast.customer_b_admin).exists()
    assert list(WorkOrder.objects.visible_to(cast.customer_a_user)) == [wo]


# ---------------------------------------------------------------- execution


def test_reject_puts_it_back_in_the_queue_and_tells_the_dispatcher(cast):
    eng = engineer(user=cast.engineer)
    wo = _order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    with pytest.raises(ValidationFailed):
        services.reject(actor=eng, work_order=wo, reason="  ")
    wo = services.reject(actor=eng, work_order=wo, reason="车辆故障")
    assert wo.status == W.REJECTED and wo.assignee is None
    assert Notification.objects.filter(
        recipient=cast.dispatcher, kind="work_order_rejected"
    ).exists()


def test_only_the_assignee_acts_in_the_field(cast):
    eng = engineer(user=cast.engineer)
    colleague = engineer()
    wo = _order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    with pytest.raises(PermissionDenied):
        services.accept(actor=colleague, work_order=wo)
    assert WorkOrder.objects.get(pk=wo.pk).status == W.DISPATCHED


def test_check_in_far_from_the_site_is_allowed_but_flagged(cast):
    eng = engineer(user=cast.engineer)
    wo = _order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    wo = services.check_in(actor=eng, work_order=wo, latitude="31.30", longitude="121.50")
    assert wo.status == W.ON_SITE and wo.check_in_flagged and wo.check_in_distance_m > 5000
    event = WorkOrderEvent.objects.get(work_order=wo, kind="check_in")
    assert event.latitude == Decimal("31.300000") and event.data["flagged"] is True


def test_complete_needs_every_checklist_item_answered(cast):
    ChecklistTemplate.objects.create(type="repair", items="确认故障\n试运行")
    eng = engineer(user=cast.engineer)
    wo = _on_site(cast, eng, type="repair")
    with pytest.raises(ValidationFailed) as exc:
        services.complete(actor=eng, work_order=wo, resolution_code="fixed")
    assert exc.value.code == "checklist_open"
    for item in wo.checklist.all():
        services.set_checklist_item(actor=eng, work_order=wo, item_id=item.pk, result="ok")
    wo = services.complete(actor=eng, work_order=wo, resolution_code="fixed")
    assert wo.status == W.COMPLETED and wo.checked_out_at is not None


@pytest.mark.parametrize(
    "signature",
    ["", "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", "data:image/png;base64,!!!",
     "data:image/png;base64,PHNjcmlwdD4="],
)  # fmt: skip
def test_a_signature_must_be_a_png(cast, signature):
    eng = engineer(user=cast.engineer)
    wo = _on_site(cast, eng)
    with pytest.raises(ValidationFailed):
        services.sign(actor=eng, work_order=wo, signature=signature, signed_by="王工")
    assert not WorkOrder.objects.get(pk=wo.pk).signature


def test_position_pings_are_idempotent_and_move_the_eta(cast):
    eng = engineer(user=cast.engineer)
    wo = _order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    services.start_travel(actor=eng, work_order=wo)
    key = "0d6f3c2e-6a43-4b4b-9f0f-2d0c8a7b5e11"
    first = services.record_position(actor=eng, latitude="31.10", longitude="121.40", client_id=key)
    again = services.record_position(actor=eng, latitude="31.10", longitude="121.40", client_id=key)
    assert first.pk == again.pk and PositionPing.objects.count() == 1
    wo.refresh_from_db()
    assert wo.eta is not None and wo.eta > timezone.now()
    assert WorkOrderEvent.objects.filter(work_order=wo, kind="eta", public=True).count() == 1
    with pytest.raises(ValidationFailed):
        services.record_position(actor=eng, latitude="91", longitude="0")


def test_a_client_id_of_someone_elses_ping_or_photo_is_refused_not_returned(cast):
    eng = engineer(user=cast.engineer)
    other = engineer()
    key = "4b7f6a7e-2c1d-4d8e-9a55-0f3c9c1a2b77"
    services.record_position(actor=other, latitude="31.1", longitude="121.4", client_id=key)
    with pytest.raises(ValidationFailed) as exc:
        services.record_position(actor=eng, latitude="31.1", longitude="121.4", client_id=key)
    assert "client_id" in exc.value.fields
    assert PositionPing.objects.filter(user=eng).count() == 0

    from frontline.desk.uploads import as_upload

    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cf000000030101004b7c2fb40000000049454e44ae426082"
    )
    first, second = _on_site(cast, eng), _on_site(cast, eng)
    photo = services.add_photo(actor=eng, work_order=first, file=as_upload(png, "a.png"),
                               client_id=key)  # fmt: skip
    again = services.add_photo(actor=eng, work_order=first, file=as_upload(png, "a.png"),
                               client_id=key)  # fmt: skip
    assert again.pk == photo.pk
    with pytest.raises(ValidationFailed):
        services.add_photo(actor=eng, work_order=second, file=as_upload(png, "a.png"),
                           client_id=key)  # fmt: skip
    assert not second.photos.exists()


def test_public_events_never_carry_an_email(cast):
    eng = engineer(user=f.member(Role.ENGINEER, display_name=""))
    wo = _order(cast)
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    event = WorkOrderEvent.objects.get(work_order=wo, kind="dispatched")
    assert eng.email not in str(event.data)


def test_created_by_a_dispatcher_with_route_the_rules_apply_at_once(cast):
    from frontline.field.models import DispatchRule

    DispatchRule.objects.create(name="苏州交网点", position=1, region="苏州", partner=cast.partner,
                                mode="assign")  # fmt: skip
    suzhou = f.SiteFactory(customer=cast.customer_a, city="苏州")
    routed = services.create_work_order(actor=cast.dispatcher, title="x", site=suzhou, route=True)
    assert routed.__class__.objects.get(pk=routed.pk).partner == cast.partner
    plain = services.create_work_order(actor=cast.dispatcher, title="y", site=suzhou)
    assert plain.__class__.objects.get(pk=plain.pk).partner is None


def test_routing_that_is_refused_leaves_the_order_in_the_queue_with_a_note(cast):
    from frontline.field.models import DispatchRule

    cast.partner.is_active = False
    cast.partner.save()
    DispatchRule.objects.create(name="交网点", position=1, partner=cast.partner, mode="assign")
    wo = services.create_work_order(
        actor=cast.dispatcher, title="x", site=f.SiteFactory(customer=cast.customer_a), route=True
    )
    wo = WorkOrder.objects.get(pk=wo.pk)
    assert wo.status == W.NEW and wo.partner is None
    assert WorkOrderEvent.objects.filter(work_order=wo, kind="note").exists()
