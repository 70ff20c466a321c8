"""Work orders brought to a given step through the services, for the mobile, portal and
public-link tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from frontline.field import links, services
from frontline.field.models import ChecklistItem, ChecklistTemplate, PublicLink, WorkOrder
from frontline.field.states import ChecklistResult, WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.testing import factories as f

# Near the SiteFactory's default site (31.2034, 121.587): a few metres away.
NEAR = ("31.203500", "121.587100")
# Across the river: several kilometres from the site.
FAR = ("31.230400", "121.473700")
PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

STEPS = ["dispatched", "accepted", "en_route", "on_site", "completed", "closed"]


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The public pages count requests per address in the cache: start every test at zero."""
    cache.clear()
    yield
    cache.clear()


def checklist_template(lines=("电源已断开", "压力正常")) -> ChecklistTemplate:
    template, _ = ChecklistTemplate.objects.update_or_create(
        type="repair", defaults={"items": "\n".join(lines)}
    )
    return template


def job(cast, *, step="dispatched", eng=None, customer=None, title="2# 冷机高压报警", **kw):
    """A repair at a customer A site (a 09:00–12:00 window today), brought to ``step``
    by the services; its engineer is ``eng`` or the cast's engineer."""
    eng = eng or cast.engineer
    engineer(user=eng)
    customer = customer or cast.customer_a
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    kw.setdefault("window_start", start)
    kw.setdefault("window_end", start + dt.timedelta(hours=3))
    wo = services.create_work_order(
        actor=cast.dispatcher, title=title, site=f.SiteFactory(customer=customer), **kw
    )
    return advance(cast, wo, step, eng)


def advance(cast, wo: WorkOrder, step: str, eng) -> WorkOrder:
    done = STEPS.index(wo.status) + 1 if wo.status in STEPS else 0
    todo = STEPS[done : STEPS.index(step) + 1] if step in STEPS else []
    for name in todo:
        if name == "dispatched" and eng.organization.kind == "partner":
            # Through the outlet: sent to it, then its admin assigns one of its engineers.
            services.send_to_partner(actor=cast.dispatcher, work_order=wo, partner=eng.organization)
            services.dispatch(actor=cast.partner_admin, work_order=wo, engineer=eng)
        elif name == "dispatched":
            services.dispatch(actor=cast.dispatcher, work_order=wo, engineer=eng)
        elif name == "accepted":
            services.accept(actor=eng, work_order=wo)
        elif name == "en_route":
            services.start_travel(actor=eng, work_order=wo)
        elif name == "on_site":
            services.check_in(actor=eng, work_order=wo, latitude=NEAR[0], longitude=NEAR[1])
        elif name == "completed":
            for item in ChecklistItem.objects.filter(work_order=wo):
                services.set_checklist_item(
                    actor=eng, work_order=wo, item_id=item.pk, result=ChecklistResult.OK
                )
            services.sign(actor=eng, work_order=wo, signature=PNG, signed_by="王工")
            services.complete(actor=eng, work_order=wo, resolution_code="fixed")
        elif name == "closed":
            services.close(actor=cast.dispatcher, work_order=wo)
    wo.refresh_from_db()
    return wo


def offered(cast, *, engineers=None) -> WorkOrder:
    """A work order on offer to ``engineers`` (default: the cast's engineer)."""
    for eng in engineers or [cast.engineer]:
        engineer(user=eng)
    wo = services.create_work_order(
        actor=cast.dispatcher, title="空调滤网更换", site=f.SiteFactory(customer=cast.customer_a)
    )
    services.offer(actor=cast.dispatcher, work_order=wo, pool=engineers or [cast.engineer])
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.OFFERED
    return wo


def timeline_token(wo: WorkOrder, *, days=30) -> str:
    return links.issue(wo, PublicLink.Purpose.TIMELINE, days=days)


def survey_token(wo: WorkOrder, *, days=14) -> str:
    return links.issue(wo, PublicLink.Purpose.SURVEY, days=days)
