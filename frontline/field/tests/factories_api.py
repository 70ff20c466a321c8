"""Helpers for the field API tests: clients per actor, orders through the services, files."""

from __future__ import annotations

import base64

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from frontline.field import services
from frontline.field.models import ChecklistTemplate
from frontline.field.tests.factories import engineer
from frontline.testing import factories as f

URL = "/api/v1/work-orders/"

SIGNATURE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PNG = base64.b64decode(SIGNATURE.split(",", 1)[1])
# The site factory's position (张江): a check-in here is not flagged.
AT_SITE = {"latitude": 31.2034, "longitude": 121.587}


def client_for(user) -> APIClient:
    """A client of its own per actor (a story often has two or three at once)."""
    client = APIClient()
    client.force_login(user)
    return client


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def hvac():
    return f.SkillFactory(code="hvac", name="暖通")


def checklist_for_repairs(*lines: str) -> ChecklistTemplate:
    return ChecklistTemplate.objects.create(
        type="repair", items="\n".join(lines or ("检查压力", "清洁滤网"))
    )


def order(cast, *, customer=None, by=None, title="2# 冷机高压报警", **kwargs):
    """A work order of customer A (by default) opened by the dispatcher."""
    site = kwargs.pop("site", None) or f.SiteFactory(customer=customer or cast.customer_a)
    return services.create_work_order(actor=by or cast.dispatcher, title=title, site=site, **kwargs)


def field_engineer(cast, **kwargs):
    """The cast's operator engineer with a profile (works today, near the sites)."""
    return engineer(user=cast.engineer, **kwargs)


def en_route(cast, work_order, eng, *, by=None):
    """Dispatched to ``eng``, accepted and on the way (photos can be taken)."""
    services.dispatch(actor=by or cast.dispatcher, work_order=work_order, engineer=eng)
    services.accept(actor=eng, work_order=work_order)
    return services.start_travel(actor=eng, work_order=work_order)


def on_site(cast, work_order, eng, *, by=None):
    en_route(cast, work_order, eng, by=by)
    return services.check_in(actor=eng, work_order=work_order, **AT_SITE)


def photo_of(work_order, eng, caption="现场照片"):
    return services.add_photo(actor=eng, work_order=work_order, file=png(), caption=caption)
