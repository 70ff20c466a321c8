"""A small field-service story for the page tests: two customers, a partner outlet,
engineers with profiles, and work orders in different hands."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django.core.files.base import ContentFile

from frontline.accounts.models import Skill
from frontline.field import services
from frontline.field.models import WorkOrder, WorkOrderPhoto
from frontline.field.tests.factories import engineer
from frontline.testing import factories as f

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
PNG = base64.b64decode(PNG_B64)
PNG_DATA_URL = "data:image/png;base64," + PNG_B64


@dataclass
class Story:
    skill: Skill
    site_a: object
    site_b: object
    wo_a: WorkOrder  # customer A, dispatched to the operator's engineer
    wo_b: WorkOrder  # customer B, in the queue
    wo_partner: WorkOrder  # customer A, sent to the partner outlet


def story(cast) -> Story:
    skill = f.SkillFactory(code="hvac", name="暖通")
    engineer(user=cast.engineer, skills={skill: 3})
    engineer(user=cast.partner_engineer, skills={skill: 3})
    site_a = f.SiteFactory(customer=cast.customer_a)
    site_b = f.SiteFactory(customer=cast.customer_b)
    d = cast.dispatcher
    wo_a = services.create_work_order(actor=d, title="A 冷机检修", site=site_a)
    services.dispatch(actor=d, work_order=wo_a, engineer=cast.engineer)
    services.add_note(actor=d, work_order=wo_a, body="内部备注：客户难沟通")
    wo_b = services.create_work_order(actor=d, title="B 配电柜巡检", site=site_b)
    wo_p = services.create_work_order(actor=d, title="A 网点安装", site=site_a)
    services.send_to_partner(actor=d, work_order=wo_p, partner=cast.partner)
    fresh = WorkOrder.objects.get
    return Story(skill, site_a, site_b, fresh(pk=wo_a.pk), fresh(pk=wo_b.pk), fresh(pk=wo_p.pk))


def photo(wo, *, name="现场.png") -> WorkOrderPhoto:
    """A stored photo (as add_photo leaves it), without walking the order on site."""
    p = WorkOrderPhoto(work_order=wo, name=name, content_type="image/png", size=len(PNG))
    p.file.save("photo", ContentFile(PNG), save=False)
    p.save()
    return p


def signature(wo) -> None:
    wo.signature.save("sig.png", ContentFile(PNG), save=False)
    WorkOrder.objects.filter(pk=wo.pk).update(signature=wo.signature.name, signed_by="王工")


def walk_on_site(cast, wo):
    """Dispatched → accepted → on site (the engineer, at the site)."""
    eng = cast.engineer
    if wo.status != "dispatched":
        services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
    services.accept(actor=eng, work_order=wo)
    return services.check_in(actor=eng, work_order=wo, latitude="31.2034", longitude="121.587")
