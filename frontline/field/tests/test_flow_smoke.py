"""The whole life of a work order through the services, as one story."""

from __future__ import annotations

import pytest

from frontline.core.errors import Conflict, ValidationFailed
from frontline.field import services
from frontline.field.models import WorkOrderEvent
from frontline.field.states import WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.testing import factories as f

PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.mark.django_db
def test_dispatch_to_close(cast):
    skill = f.SkillFactory(code="hvac")
    eng = engineer(user=cast.engineer, skills={skill: 3})
    site = f.SiteFactory(customer=cast.customer_a)
    wo = services.create_work_order(
        actor=cast.dispatcher, title="2# 冷机高压报警", site=site,
        required_skills=[{"skill": "hvac", "min_level": 2}],
    )  # fmt: skip
    assert wo.number.startswith("W-") and wo.status == WorkOrderStatus.NEW
    services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    services.start_travel(actor=eng, work_order=wo, latitude="31.2", longitude="121.5")
    wo = services.check_in(actor=eng, work_order=wo, latitude="31.2034", longitude="121.587")
    assert wo.check_in_flagged is False
    services.sign(actor=eng, work_order=wo, signature=PNG, signed_by="王工")
    wo = services.complete(actor=eng, work_order=wo, resolution_code="fixed")
    assert wo.first_time_fix is True
    wo = services.close(actor=cast.dispatcher, work_order=wo)
    assert wo.status == WorkOrderStatus.CLOSED
    kinds = list(WorkOrderEvent.objects.filter(work_order=wo).values_list("kind", flat=True))
    assert kinds[0] == "created" and kinds[-1] == "closed"
    with pytest.raises(Conflict):
        services.cancel(actor=cast.dispatcher, work_order=wo, reason="late")


@pytest.mark.django_db
def test_unqualified_engineer_refused(cast):
    skill = f.SkillFactory(code="hv")
    eng = engineer(user=cast.engineer, skills={})
    wo = services.create_work_order(
        actor=cast.dispatcher, title="高压柜检修", site=f.SiteFactory(customer=cast.customer_a),
        required_skills=[{"skill": skill, "min_level": 1}],
    )  # fmt: skip
    with pytest.raises(ValidationFailed):
        services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)


@pytest.mark.django_db
def test_offer_and_claim(cast):
    eng = engineer(user=cast.engineer)
    other = engineer()
    wo = services.create_work_order(
        actor=cast.dispatcher, title="空调滤网更换", site=f.SiteFactory(customer=cast.customer_a)
    )
    grab = services.offer(actor=cast.dispatcher, work_order=wo)
    assert set(grab.recipients.all()) >= {eng, other}
    services.claim_offer(actor=eng, offer_id=grab.pk)
    with pytest.raises(Conflict) as exc:
        services.claim_offer(actor=other, offer_id=grab.pk)
    assert exc.value.code == "offer_taken"
