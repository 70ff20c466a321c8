"""Every model of ours answers ``visible_to(user)``, and anonymous callers see nothing."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser

from frontline.accounts.models import EngineerSkill
from frontline.core import audit
from frontline.core.models import AuditEntry
from frontline.testing import factories as f

OUR_MODELS = [m for m in apps.get_models() if m.__module__.startswith("frontline.")]


def test_there_are_models_to_check():
    assert len(OUR_MODELS) >= 10


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_every_model_has_visible_to(model):
    assert callable(getattr(model.objects, "visible_to", None)), (
        f"{model._meta.label} lacks visible_to(user)"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_anonymous_sees_nothing(model):
    assert list(model.objects.visible_to(AnonymousUser())) == []


@pytest.mark.django_db
def test_audit_trail_is_for_staff_with_view_audit(cast):
    site = f.SiteFactory(customer=cast.customer_a)
    audit.record(actor=cast.admin, instance=site, action=audit.AuditAction.CREATE)
    assert AuditEntry.objects.visible_to(cast.dispatcher).count() == 1
    assert AuditEntry.objects.visible_to(cast.customer_a_admin).count() == 0
    assert AuditEntry.objects.visible_to(cast.partner_admin).count() == 0


@pytest.mark.django_db
def test_engineer_skills_follow_the_people_one_may_see(cast):
    skill = f.SkillFactory(code="hvac", name="暖通")
    EngineerSkill.objects.create(user=cast.engineer, skill=skill, level=3)
    EngineerSkill.objects.create(user=cast.partner_engineer, skill=skill, level=2)
    assert EngineerSkill.objects.visible_to(cast.manager).count() == 2
    assert list(
        EngineerSkill.objects.visible_to(cast.partner_admin).values_list("user", flat=True)
    ) == [cast.partner_engineer.pk]
    assert EngineerSkill.objects.visible_to(cast.customer_a_admin).count() == 0
